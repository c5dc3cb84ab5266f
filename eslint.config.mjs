// typescript-eslint's recommended rules over the TypeScript we write; npm test runs it (test/style.test.ts).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "build/", "node_modules/", "notebooks/", "test/fixtures/", "test/artifacts/", "bench/results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A leading _ says "unused on purpose" (a key left out of a copy, a parameter a signature needs).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", caughtErrors: "none" },
      ],
    },
    languageOptions: {
      globals: {
        console: "readonly",
        process: "readonly",
        require: "readonly",
        module: "writable",
        __dirname: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setImmediate: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        performance: "readonly",
        fetch: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
        URL: "readonly",
        structuredClone: "readonly",
        globalThis: "readonly",
      },
    },
  },
  {
    // The snapshot's script: Node's snapshot builder gives it only `require` of Node's own modules.
    files: ["src/engine/tslab-snapshot/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
