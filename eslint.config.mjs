// TypeScript lint for the public API (lib/), the tests, the benchmarks, the examples and scripts.
// Run by `npm run lint` (and .ci/run) beside rustfmt and clippy.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

export default tseslint.config(
  { ignores: ['dist/**', 'target/**', 'docs/**', 'npm-dist/**', 'index.js', 'index.d.ts', 'node_modules/**', 'fuzz/divergences/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // Deliberately ill-typed values are the point of the bad-input tests; lib/ keeps `any` to
    // the call signatures of wasm functions, each marked where used.
    files: ['__test__/**', 'bench/**', 'fuzz/**', 'scripts/**', 'examples/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      // `let inst; inst = new Instance(…, { h: () => inst… })`: a const would be in its TDZ if
      // a start function called the host function during construction.
      'prefer-const': 'off',
    },
  },
  {
    // Type tests: declarations exist to be type-checked, not used.
    files: ['__test__/types/**'],
    rules: { '@typescript-eslint/no-unused-vars': 'off', '@typescript-eslint/no-unused-expressions': 'off' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
)
