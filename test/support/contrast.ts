/** Colour contrast as WCAG 2 defines it, for CSS colours as getComputedStyle gives them ("rgb(…)", "rgba(…)"). */

/** Red, green, blue from 0 to 255, and alpha from 0 to 1. */
export type Rgba = readonly [number, number, number, number];

/** Parses "rgb(34, 34, 34)", "rgba(0, 0, 0, 0.5)" or "rgb(34 34 34 / 50%)"; undefined for anything else ("none", "url(…)"). */
export function parseCssColour(text: string): Rgba | undefined {
  const match = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+)(%?))?\s*\)$/.exec(text.trim());
  if (!match) return undefined;
  const alpha = match[4] === undefined ? 1 : Number(match[4]) / (match[5] ? 100 : 1);
  return [Number(match[1]), Number(match[2]), Number(match[3]), alpha];
}

/** `top` painted over the opaque `bottom`. */
export function over(top: Rgba, bottom: Rgba): Rgba {
  const a = top[3];
  const mix = (i: 0 | 1 | 2): number => top[i] * a + bottom[i] * (1 - a);
  return [mix(0), mix(1), mix(2), 1];
}

/** The colour seen through `layers`, listed from the element outward; the page itself is white under them all. */
export function seenBackground(layers: readonly Rgba[]): Rgba {
  return [...layers].reverse().reduce<Rgba>((below, layer) => over(layer, below), [255, 255, 255, 1]);
}

/** Relative luminance, from 0 (black) to 1 (white). */
export function luminance([r, g, b]: Rgba): number {
  const linear = (c: number): number => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/**
 * How far apart two colours are, from 1 (the same) to 21 (black on white). WCAG asks 3 for large text and graphics, 4.5 for body text.
 *
 * @example
 * contrastRatio([0, 0, 0, 1], [255, 255, 255, 1]); // 21
 */
export function contrastRatio(foreground: Rgba, background: Rgba): number {
  const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}
