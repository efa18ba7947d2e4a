/** Runs the `encompass` command as a user would, in a child process, and collects its output. */
import { execFile } from "node:child_process"
import * as path from "node:path"
import { TestDatabase } from "@encompass/store"

export const cliRoot = path.resolve(import.meta.dirname, "..")

export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export const encompass = (args: ReadonlyArray<string>, env: Record<string, string | undefined> = {}): Promise<Result> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "src/bin.ts", ...args],
      { cwd: cliRoot, env: { ...process.env, ...env }, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

/** A fresh database on the DATABASE_URL server for one test, or the embedded store without it. */
export const freshDatabase = TestDatabase.fresh
