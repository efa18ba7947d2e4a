/**
 * The golden decision tables: every file in test/golden/ is a list of cases an IG officer can
 * read and extend (format: README "Golden decision tables"). Each case names the clause it
 * proves and the decisions the engine must make for child P1.
 */
import { Decision, Recipient } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Schema } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { parse } from "yaml"
import { Policy } from "../src/index.js"
import * as F from "./Fixtures.js"

/** An optional key that, when present, is never `undefined` (exactOptionalPropertyTypes). */
const opt = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

const ChildSpec = Schema.Struct({
  dateOfBirth: opt(Schema.String),
  presence: opt(Schema.Literal("present", "witness", "not-present")),
  schools: opt(Schema.Array(Schema.String)),
  riskGrading: opt(Schema.Literal("standard", "medium", "high")),
  sensitive: opt(Schema.Boolean),
  /** `null` clears a default: the child's council is not recorded. */
  residence: opt(Schema.NullOr(Schema.String)),
  ambiguous: opt(Schema.Boolean)
})
const IncidentSpec = Schema.Struct({
  category: opt(Schema.Literal("domestic", "missing-episode", "other")),
  occurredAt: opt(Schema.String),
  version: opt(Schema.Int),
  localAuthority: opt(Schema.String),
  repeatOf: opt(Schema.String)
})
const Expected = Schema.Struct({
  to: Schema.String,
  outcome: Schema.Literal("share", "withhold", "phone-first", "needs-review"),
  rule: Schema.String,
  clause: Schema.String,
  deadline: opt(Schema.String)
})
const Case = Schema.Struct({
  name: Schema.NonEmptyString,
  clause: Schema.NonEmptyString,
  incident: opt(IncidentSpec),
  child: opt(ChildSpec),
  override: opt(Schema.Struct({ by: Schema.String, at: Schema.String, reason: Schema.String })),
  expect: Schema.NonEmptyArray(Expected)
})
const Table = Schema.Struct({
  agreement: Schema.Literal(...(Object.keys(F.agreements) as [string, ...Array<string>])),
  defaults: opt(Schema.Struct({ incident: opt(IncidentSpec), child: opt(ChildSpec) })),
  cases: Schema.NonEmptyArray(Case)
})
const decodeTable = Schema.decodeUnknownSync(Table, { onExcessProperty: "error" })

const folder = new URL("./golden/", import.meta.url)
const tables = readdirSync(folder)
  .filter((f) => f.endsWith(".yaml"))
  .map((file) => ({ file, table: decodeTable(parse(readFileSync(new URL(file, folder), "utf8"))) }))

describe("golden decision tables", () => {
  it("hold at least 60 cases, each naming its clause", () => {
    expect(tables.reduce((n, t) => n + t.table.cases.length, 0)).toBeGreaterThanOrEqual(60)
  })

  for (const { file, table } of tables) {
    describe(file, () => {
      const agreement = F.agreements[table.agreement]
      if (agreement === undefined) throw new Error(`unknown agreement ${table.agreement}`)
      it.each(table.cases)("$clause: $name", (c) => {
        const { residence, ...spec } = { ...table.defaults?.child, ...c.child }
        const child = F.child({ ...spec, ...(typeof residence === "string" && { residence }), ref: "P1" })
        const incident = F.incident({ ...table.defaults?.incident, ...c.incident, children: [child] })
        const overrides = c.override === undefined
          ? []
          : [{ child: child.ref, override: new Decision.Override({ ...c.override, at: DateTime.unsafeMake(c.override.at) }) }]
        const { decisions } = Policy.evaluate(incident, agreement, { ...F.fullOptions, overrides })
        for (const expected of c.expect) {
          const decision = decisions.find((d) => Recipient.recipientKey(d.recipient) === expected.to)
          expect(decision, `no decision for ${expected.to}; got ${decisions.map((d) => Recipient.recipientKey(d.recipient)).join(", ")}`).toBeDefined()
          expect({ outcome: decision?.outcome, rule: decision?.rule, clause: decision?.clause }).toEqual({
            outcome: expected.outcome,
            rule: expected.rule,
            clause: expected.clause
          })
          expect(decision?.rationale.length).toBeGreaterThan(0)
          if (expected.deadline !== undefined && decision !== undefined) {
            expect(DateTime.formatIsoOffset(DateTime.setZone(decision.deadline, agreement.timeZone))).toBe(expected.deadline)
          }
        }
      })
    })
  }
})
