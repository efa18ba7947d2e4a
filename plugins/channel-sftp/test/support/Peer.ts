/**
 * The recipient's side for tests: a real sshd serving a folder, and a collector that takes
 * finished files (final names, never the hidden temporary ones) out of it as the recipient's
 * system would, counting them.
 */
import { OpenSshd } from "@encompass/plugin-testkit"
import { Context, Effect, Layer } from "effect"
import type { Scope } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

export interface Peer {
  readonly sshd: Context.Tag.Service<OpenSshd.Sshd>
  /** The served folder the channel uploads into. */
  readonly folder: string
  /** Moves every finished notification file (and its manifest) out; returns how many notification files it has taken so far. */
  readonly collect: () => number
}

export const start: Effect.Effect<Peer, never, Scope.Scope> = Effect.gen(function*() {
  const sshd = Context.get(yield* Layer.build(OpenSshd.SshdLive), OpenSshd.Sshd)
  const folder = sshd.folder("inbound")
  const taken = sshd.folder("collected")
  let count = 0
  return {
    sshd,
    folder,
    collect: () => {
      for (const name of fs.readdirSync(folder).sort()) {
        if (name.startsWith(".")) continue
        if (readerTakes(name)) count++
        fs.renameSync(path.join(folder, name), path.join(taken, `${String(count).padStart(4, "0")}-${name}`))
      }
      return count
    }
  }
})

/** What the README tells a recipient's system to take as a notification: `encompass-*.json.asc`, never a hidden name. */
export const readerTakes = (name: string): boolean => /^encompass-[^/]*\.json\.asc$/.test(name)

/** Names in the folder, sorted. */
export const names = (folder: string): ReadonlyArray<string> => fs.readdirSync(folder).sort()
