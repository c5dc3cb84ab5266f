/** Async work over many items with only a few under way at once. */

/** `work` on every item, at most `limit` at a time; the answers in the items' order. */
export async function eachAtOnce<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const answers: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) answers[i] = await work(items[i] as T);
    }),
  );
  return answers;
}
