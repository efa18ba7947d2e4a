#!/usr/bin/env node
import { CommandDescriptor, HelpDoc, Usage, ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect } from "effect"
import * as Cli from "./Cli.js"

// @effect/cli styles help and usage errors with ANSI codes whatever the output is. Plain text
// when the stream is not a terminal (a file, a pipe, a service manager's log) or NO_COLOR is set.
// eslint-disable-next-line no-control-regex -- ANSI codes begin with ESC
const ansi = /\u001b\[[0-9;]*m/g
const colour = (stream: NodeJS.WriteStream) => stream.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""
const plainConsole = (current: Console.Console): Console.Console => {
  const writer = (write: (...args: ReadonlyArray<unknown>) => void, stream: NodeJS.WriteStream) =>
    colour(stream) ? write : (...args: ReadonlyArray<unknown>) => write(...args.map((a) => (typeof a === "string" ? a.replace(ansi, "") : a)))
  const unsafe: Console.UnsafeConsole = {
    ...current.unsafe,
    log: writer(current.unsafe.log, process.stdout),
    info: writer(current.unsafe.info, process.stdout),
    error: writer(current.unsafe.error, process.stderr),
    warn: writer(current.unsafe.warn, process.stderr)
  }
  return {
    ...current,
    unsafe,
    log: (...args) => Effect.sync(() => unsafe.log(...args)),
    info: (...args) => Effect.sync(() => unsafe.info(...args)),
    error: (...args) => Effect.sync(() => unsafe.error(...args)),
    warn: (...args) => Effect.sync(() => unsafe.warn(...args))
  }
}

/**
 * A command descriptor as @effect/cli 0.77 builds it. Its `getSubcommands` answers with each
 * child's own command stripped of the child's subcommands, so the walk reads the tree itself.
 */
interface Descriptor {
  readonly _tag: string
  readonly name?: string
  readonly command?: Descriptor
  readonly parent?: Descriptor
  readonly children?: ReadonlyArray<Descriptor>
}
/** The descriptor a `Map` wraps, or the parent of a `Subcommands`: the one that has the name. */
const inner = (d: Descriptor): Descriptor | undefined => (d._tag === "Map" ? d.command : d._tag === "Subcommands" ? d.parent : undefined)
const nameOf = (d: Descriptor): string | undefined => {
  const wrapped = inner(d)
  return wrapped === undefined ? d.name : nameOf(wrapped)
}
const childrenOf = (d: Descriptor): ReadonlyArray<Descriptor> =>
  d._tag === "Subcommands" ? d.children ?? [] : d._tag === "Map" && d.command !== undefined ? childrenOf(d.command) : []

/** The usage line of the deepest (sub)command the arguments name, e.g. `encompass outbox cancel …`. */
const usageOf = (args: ReadonlyArray<string>): string => {
  let command = Cli.command.descriptor as unknown as Descriptor
  const names = ["encompass"]
  for (const word of args) {
    const next = childrenOf(command).find((child) => nameOf(child) === word)
    if (next === undefined) break
    command = next
    names.push(word)
  }
  const usage = HelpDoc.toAnsiText(Usage.getHelp(CommandDescriptor.getUsage(command as unknown as CommandDescriptor.Command<unknown>))).trim()
  // The usage starts with the command's own name; its parents go before it.
  return `usage: ${[...names.slice(0, -1), usage].join(" ")}\n(\`${names.join(" ")} --help\` describes each option)`
}

// Errors are printed as their message only: the tagged errors are written to be safe to show
// (no personal data, no secrets), while a raw cause dump could include more than that.
// Usage errors were already printed by @effect/cli; a wrong or missing option or argument gets
// the usage line of its command too.
const report = (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause)
  const usageError = ValidationError.isValidationError(error)
  const withUsage = usageError &&
    (ValidationError.isMissingValue(error) || ValidationError.isInvalidValue(error) || ValidationError.isInvalidArgument(error))
  const quiet = Cause.isInterruptedOnly(cause) || usageError
  return Effect.zipRight(
    quiet
      ? withUsage ? Console.error(usageOf(process.argv.slice(2))) : Effect.void
      : Console.error(`encompass: ${error instanceof Error ? error.message : "failed"}`),
    Effect.sync(() => {
      process.exitCode = 1
    })
  )
}

// Ctrl-C under `npm run` reaches the command twice, from the terminal and forwarded by npm. The
// runtime handles the first and then stops listening, so the second would kill a shutdown in
// progress (Node's default): a repeat within a second is ignored; a later one still forces the exit.
let firstSignal: number | undefined
const onSignal = () => {
  if (firstSignal === undefined) firstSignal = Date.now()
  else if (Date.now() - firstSignal > 1_000) process.exit(130)
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)

Effect.flatMap(Effect.console, (current) =>
  Cli.run(process.argv).pipe(
    Effect.catchAllCause(report),
    Effect.withConsole(plainConsole(current))
  )).pipe(
    Effect.provide(NodeContext.layer),
    NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
  )
