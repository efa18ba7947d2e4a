/**
 * One process per embedded data directory: a second process opening the folder another holds is
 * refused, naming the folder and the holder's pid, and the lock is free again once the holder is
 * killed (SIGKILL: no clean-up runs, the operating system releases it).
 */
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Sql } from "../src/index.js"

const hold = (dataDir: string) =>
  Effect.async<ReturnType<typeof spawn>, Error>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "support/HoldDataDir.ts"), dataDir], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resume(Effect.succeed(child)))
    child.once("exit", (code) => resume(Effect.fail(new Error(`the holder exited (${code}) before it was ready`))))
  })

const killed = (child: ReturnType<typeof spawn>) =>
  Effect.async<void>((resume) => {
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

const open = (dataDir: string) =>
  Effect.flatMap(Sql.Sql, (sql) => sql.query<{ one: number }>`SELECT 1 AS one`).pipe(Effect.provide(Sql.layer({ dataDir })))

it.live("a second process is refused the embedded data directory another holds, until the holder dies", () =>
  Effect.gen(function*() {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-lock-"))
    const holder = yield* hold(dataDir)
    const refused = yield* Effect.flip(open(dataDir))
    expect(refused._tag).toBe("SqlError")
    expect(refused.code).toBe("EBUSY")
    expect(refused.message).toContain(`the embedded database ${dataDir} is in use by another encompass process (pid ${holder.pid})`)
    yield* killed(holder)
    expect(yield* open(dataDir)).toEqual([{ one: 1 }])
    fs.rmSync(dataDir, { recursive: true, force: true })
  }), 120_000)

it.live("the lock is released with the layer, so one process can open the folder again", () =>
  Effect.gen(function*() {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-lock-"))
    expect(yield* open(dataDir)).toEqual([{ one: 1 }])
    expect(yield* open(dataDir)).toEqual([{ one: 1 }])
    fs.rmSync(dataDir, { recursive: true, force: true })
  }), 120_000)
