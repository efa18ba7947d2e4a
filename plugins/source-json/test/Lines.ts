/** Builds feed lines for the tests: the good fixture's first incident, with changes. */
import * as fs from "node:fs"
import * as path from "node:path"

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

export const good = new Uint8Array(fs.readFileSync(path.join(import.meta.dirname, "fixtures", "good.jsonl")))

const [first = ""] = new TextDecoder().decode(good).split("\n")

/** The good fixture's first incident as an object to change. */
export const incident = (): Record<string, unknown> => JSON.parse(first) as Record<string, unknown>

/** The first child of an incident object, to change in place. */
export const firstChild = (line: Record<string, unknown>): Record<string, unknown> =>
  (line["children"] as Array<Record<string, unknown>>)[0] as Record<string, unknown>

export const feed = (...lines: ReadonlyArray<string | Record<string, unknown>>): Uint8Array =>
  utf8(lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n") + "\n")

/** The personal data in the good fixture. */
export const personalData = ["Alfie", "Bella", "Testman", "2015-04-02", "2017-09-12", "14 Elm Road", "Dan", "2010-06-15", "9 High Street"]
