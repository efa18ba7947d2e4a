/** Runs the `encompass` command as a user would, in a child process, and collects its output. */
import { execFile } from "node:child_process"
import * as path from "node:path"
import postgres from "postgres"

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

/**
 * With DATABASE_URL set, a fresh database on that server for one test (dropped afterwards), so
 * runs never see each other's data; without it, undefined: the command uses its embedded store.
 */
export const freshDatabase = async (): Promise<{ readonly url: string | undefined; readonly drop: () => Promise<void> }> => {
  const server = process.env["DATABASE_URL"]
  if (server === undefined || server === "") return { url: undefined, drop: () => Promise.resolve() }
  const name = `encompass_cli_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const admin = postgres(server, { max: 1, onnotice: () => undefined })
  await admin.unsafe(`CREATE DATABASE ${name}`)
  const url = new URL(server)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    }
  }
}
