#!/usr/bin/env node
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect } from "effect"
import * as Cli from "./Cli.js"

// Errors are printed as their message only: the tagged errors are written to be safe to show
// (no personal data, no secrets), while a raw cause dump could include more than that.
// Usage errors were already printed by @effect/cli with the help text.
const report = (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause)
  const quiet = Cause.isInterruptedOnly(cause) || ValidationError.isValidationError(error)
  return Effect.zipRight(
    quiet ? Effect.void : Console.error(`encompass: ${error instanceof Error ? error.message : "failed"}`),
    Effect.sync(() => {
      process.exitCode = 1
    })
  )
}

Cli.run(process.argv).pipe(
  Effect.catchAllCause(report),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
