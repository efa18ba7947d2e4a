/**
 * Heap measurement for the streaming check. A collection before each sample makes `heapUsed`
 * what the decoder still holds rather than garbage awaiting collection; `gc` is switched on at
 * run time, so the suites need no special node flags.
 */
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

let collect: (() => void) | undefined

const gc = (): (() => void) => {
  if (collect === undefined) {
    setFlagsFromString("--expose-gc")
    collect = runInNewContext("gc") as () => void
  }
  return collect
}

/** Live heap bytes after a full collection. */
export const live = (): number => {
  gc()()
  return process.memoryUsage().heapUsed
}
