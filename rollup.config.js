/*
 * rollup.config.js — the Espruino bundle (DESIGN.md "Runtimes": Espruino).
 * Used by scripts/build-espruino.js (`npm run build`), which also runs the
 * Espruino construct checker and the flash budgets; `npx rollup -c` alone
 * only bundles.
 *
 * TypeScript target ES2019: keeps classes, arrow functions, let/const and
 * template literals (all fine on Espruino 2v29) but downlevels `?.` and
 * `??` and class fields to plain code. Terser (ecma 2015 output) mangles
 * and compresses without introducing newer syntax. Whatever the source
 * says, scripts/check-espruino.js has the last word on the output.
 */
import typescript from '@rollup/plugin-typescript';
import terser from '@rollup/plugin-terser';

export const ESPRUINO_ENTRY = 'src/espruino.ts';
export const ESPRUINO_OUT = 'dist/espruino/slabnet.min.js';

/** laxTypes: type errors become warnings (for building while other layers are mid-edit). */
export function espruinoInputOptions(laxTypes) {
  return {
    input: ESPRUINO_ENTRY,
    treeshake: { moduleSideEffects: false },
    plugins: [
      typescript({
        tsconfig: false,
        include: ['src/**/*.ts', 'drivers/**/*.ts', 'boards/**/*.ts'],
        exclude: ['src/cli/**', 'src/host/**', 'drivers/host/**', 'test/**', 'bench/**'],
        compilerOptions: {
          target: 'ES2019',
          module: 'ESNext',
          moduleResolution: 'bundler',
          lib: ['ES2020'],
          types: [],
          strict: true,
          skipLibCheck: true,
          isolatedModules: true,
          useDefineForClassFields: false,
          importHelpers: false,
          noEmitOnError: laxTypes !== true,
          sourceMap: false,
          declaration: false,
        },
      }),
    ],
    onwarn(w, warn) {
      // a circular import between layers is fine (type-only cycles through Stack)
      if (w.code === 'CIRCULAR_DEPENDENCY') return;
      warn(w);
    },
  };
}

export function espruinoOutputOptions() {
  return {
    file: ESPRUINO_OUT,
    format: 'cjs',
    exports: 'named',
    esModule: false,
    strict: false,
    generatedCode: { preset: 'es5', symbols: false },
    plugins: [
      terser({
        ecma: 2015,
        module: false,
        toplevel: true,
        compress: { passes: 2, ecma: 2015, unsafe_math: false, unsafe_arrows: false, pure_getters: false, keep_fargs: true },
        mangle: { toplevel: true },
        format: { comments: false, ecma: 2015 },
      }),
    ],
  };
}

export default Object.assign(espruinoInputOptions(false), { output: espruinoOutputOptions() });
