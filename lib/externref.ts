import { ExternRefBase, checkStore, type Store } from './store'

/**
 * An explicit externref. Any JS value can be passed where wasm expects an externref; an
 * `ExternRef` passed there stands for its `value`, and externrefs coming out of wasm are
 * the plain values again (identity preserved).
 */
export class ExternRef extends ExternRefBase {
  constructor(store: Store, value: unknown) {
    checkStore(store)
    super(value)
  }
}
