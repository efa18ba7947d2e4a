/** Reads a directory file, naming it (never its content) when it cannot be read. */
import { Effect } from "effect"
import { readFile } from "node:fs/promises"
import { DirectoryError, DirectoryIssue } from "../DirectoryError.js"

export const readText = (path: string, directory: DirectoryError["directory"]): Effect.Effect<string, DirectoryError> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (error) =>
      new DirectoryError({
        method: "layerCsv",
        directory,
        reason: "Unreadable",
        source: path,
        issues: [
          new DirectoryIssue({
            message: `cannot read the file (${typeof error === "object" && error !== null && "code" in error ? String(error.code) : "unknown error"})`
          })
        ]
      })
  })
