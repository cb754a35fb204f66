/**
 * Make an instance of `cls` around existing native state, without running its constructor
 * (which would create new native state). All public wrappers are made this way.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function wrapAs<T extends object>(cls: abstract new (...args: any[]) => T, fields: Record<string, unknown>): T {
  return Object.assign(Object.create(cls.prototype) as T, fields)
}
