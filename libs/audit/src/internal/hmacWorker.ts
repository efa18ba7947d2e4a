/**
 * HMAC-SHA256 of many canonical byte strings on a worker thread, so that verifying a long chain
 * reads and parses rows on this thread while another computes their HMACs: the HMAC is half of
 * the work per event, and node's `createHmac` is the fastest there is here (a WASM one, reused,
 * ran at half its speed).
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import { Worker } from "node:worker_threads"

// Plain JavaScript, evaluated: no file to bundle or to resolve from the bundled command.
const source = `
const { parentPort, workerData } = require("node:worker_threads")
const { createHmac } = require("node:crypto")
parentPort.on("message", ({ id, bytes }) => {
  const macs = new Array(bytes.length)
  for (let i = 0; i < bytes.length; i++) macs[i] = createHmac("sha256", workerData).update(bytes[i], "utf8").digest("hex")
  parentPort.postMessage({ id, macs })
})`

export interface HmacWorker {
  /** The hex HMAC of each string, in order. */
  readonly macs: (bytes: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string>>
}

/** A worker holding `key`, terminated when the scope closes. A worker that fails is a defect. */
export const make = (key: Uint8Array): Effect.Effect<HmacWorker, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => new Worker(source, { eval: true, workerData: key })),
      (worker) => Effect.promise(() => worker.terminate())
    ),
    (worker): HmacWorker => {
      const waiting = new Map<number, (result: Effect.Effect<ReadonlyArray<string>>) => void>()
      let next = 0
      let failed: Error | undefined
      const fail = (error: Error) => {
        failed = error
        for (const resume of waiting.values()) resume(Effect.die(error))
        waiting.clear()
      }
      worker.on("message", ({ id, macs }: { id: number; macs: ReadonlyArray<string> }) => {
        waiting.get(id)?.(Effect.succeed(macs))
        waiting.delete(id)
      })
      worker.on("error", fail)
      worker.on("exit", (code) => fail(new Error(`the HMAC worker exited (code ${code})`)))
      return {
        macs: (bytes) =>
          Effect.async<ReadonlyArray<string>>((resume) => {
            if (failed !== undefined) return resume(Effect.die(failed))
            const id = next++
            waiting.set(id, resume)
            worker.postMessage({ id, bytes })
            return Effect.sync(() => waiting.delete(id))
          })
      }
    }
  )
