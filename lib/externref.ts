import { ExternRefBase, checkStore, type Store } from './store'
import { AFFINE } from './wrap'

/**
 * An explicit externref. Any JS value can be passed where wasm expects an externref; an
 * `ExternRef` passed there stands for its `value`, and externrefs coming out of wasm are
 * the plain values again (identity preserved).
 */
export class ExternRef extends ExternRefBase {
  /** Marks the object as thread-affine: posting it throws a DataCloneError. */
  readonly threadAffine: symbol = AFFINE
  constructor(store: Store, value: unknown) {
    checkStore(store)
    super(value)
  }
}
