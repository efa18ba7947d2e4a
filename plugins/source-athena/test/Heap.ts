/**
 * Live heap for the security tests, as the plugin-testkit measures it: a full collection first,
 * so `heapUsed` is what is still held rather than garbage awaiting collection. `gc` is switched on
 * at run time, so the tests need no node flags.
 */
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

let collect: (() => void) | undefined

/** Live heap bytes after a full collection. */
export const live = (): number => {
  if (collect === undefined) {
    setFlagsFromString("--expose-gc")
    collect = runInNewContext("gc") as () => void
  }
  collect()
  return process.memoryUsage().heapUsed
}
