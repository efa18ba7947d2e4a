/**
 * What a newcomer sees when they get the command wrong, or read its help through a pipe: plain
 * text (no ANSI codes) when the output is not a terminal, the usage line of the subcommand whose
 * required option is missing, and a description for every group.
 */
import { describe, expect, it } from "vitest"
import { encompass } from "./Run.js"

// ESC, as ANSI colour and style codes begin.
// eslint-disable-next-line no-control-regex -- what is looked for
const ansi = /\u001b\[/

describe.concurrent("encompass usage", () => {
  it("prints help without ANSI codes when the output is not a terminal", async () => {
    const help = await encompass(["outbox", "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("USAGE")
    expect(help.stdout).not.toMatch(ansi)
  })

  it("names the missing option and prints the subcommand's usage line, without ANSI codes", async () => {
    const result = await encompass(["outbox", "cancel", "EG-0000-0000-0000", "--config", "../gateway/examples/region.yaml"])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain("Expected to find option: '--reason'")
    expect(result.stderr).toContain("usage: encompass outbox cancel --config file [--operator text] --reason text <REFERENCE>")
    expect(result.stderr).toContain("`encompass outbox cancel --help`")
    expect(result.stderr).not.toMatch(ansi)
  })

  it("describes the audit group, and outbox cancel as cancelling", async () => {
    const audit = await encompass(["audit", "--help"])
    expect(audit.stdout).toMatch(/DESCRIPTION\s+the audit log: verify its chain, export its signed anchors/)
    const outbox = await encompass(["outbox", "--help"])
    expect(outbox.stdout).toMatch(/cancel --config file \[--operator text\] --reason text <REFERENCE>\s+cancel a queued or dead notification for good/)
    expect(outbox.stdout).not.toMatch(/withdraw a queued or dead/)
  })
})
