import { CalendarDate } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { Baseline } from "../src/index.js"
import * as F from "./Fixtures.js"

const lineOf = (needle: string, text: string): number => text.split("\n").findIndex((l) => l.includes(needle)) + 1

/** The TVP file with one edit, so each case reads as the change it makes. */
const edit = (from: string, to: string, text = F.tvpText): string => {
  expect(text).toContain(from)
  return text.replace(from, to)
}

const refusal = (text: string) => {
  const result = Baseline.load(text, F.baseline)
  if (Either.isRight(result)) throw new Error("expected the agreement to be refused")
  return result.left
}

describe("Baseline: tighten, never loosen", () => {
  it("both agreements and the baseline load against the baseline", () => {
    for (const text of [F.tvpText, F.bedfordText, F.bedfordReviewedText, F.baselineText]) {
      expect(Either.isRight(Baseline.load(text, F.baseline))).toBe(true)
    }
    expect(Baseline.compare(F.baseline, F.baseline)).toEqual({ loosens: [], narrower: [] })
  })

  it("an encrypted file by SFTP is an encrypted form the baseline allows (an EHE team reached by SFTP)", () => {
    const viaSftp = edit("          - channel: secure-email\n            form: encrypted-email\n        clause: Bedford ISA 7, 10\n",
      "          - channel: sftp\n            form: encrypted-file\n        clause: Bedford ISA 7, 10\n", F.bedfordText)
    const result = Baseline.check(viaSftp, F.baseline)
    expect(result.errors).toEqual([])
    expect(Option.isSome(result.agreement)).toBe(true)
  })

  const loosening: ReadonlyArray<{ name: string; text: string; rule: Baseline.LooseningRule; path: string; needle: string }> = [
    { name: "ages above 17", text: edit("    max: 17", "    max: 18"), rule: "no-wider-ages", path: "children.ageBand.max", needle: "    max: 17" },
    { name: "ages below the baseline (nurseries)", text: edit("    min: 4", "    min: 2"), rule: "no-wider-ages", path: "children.ageBand.min", needle: "    min: 4" },
    { name: "a category outside s.49A", text: edit("  categories: [domestic]", "  categories: [domestic, other]"), rule: "no-other-categories", path: "scope.categories.1", needle: "  categories: [domestic]" },
    { name: "an unencrypted channel", text: edit("form: password-protected-attachment", "form: plain-email"), rule: "encrypted-channels-only", path: "recipients.kinds.0.channels.allowed.0.form", needle: "form: password-protected-attachment" },
    { name: "a deadline later than 08:30", text: edit('time: "08:30"', 'time: "09:15"'), rule: "no-later-deadline", path: "deadline.time", needle: 'time: "08:30"' }
  ]
  it.each(loosening)("a loosening agreement is refused with the rule named: $name", ({ needle, path, rule, text }) => {
    const error = refusal(text)
    expect(error.reason).toBe("Loosens")
    const issue = error.issues.find((i) => i.rule === rule)
    expect(issue?.path).toBe(path)
    expect(issue?.line).toBe(lineOf(needle, F.tvpText))
    expect(error.message).toContain(`[${rule}] ${path} (line ${issue?.line},`)
  })

  it("a field outside the baseline's maximal content profile is refused (compared with a narrower baseline)", () => {
    const narrowBaseline = Either.getOrThrow(
      Baseline.load(F.baselineText.replace("incidentDateTime, occurrenceNumber, presence,", "incidentDateTime, presence,"), F.baseline)
    )
    const error = Baseline.load(F.tvpText, narrowBaseline)
    expect(Either.isLeft(error) && error.left.issues.map((i) => [i.rule, i.path])).toEqual([["no-other-fields", "fields.permitted.5"]])
  })

  it("a recipient kind outside the baseline's is refused", () => {
    const noCouncils = Either.getOrThrow(
      Baseline.load(F.baselineText.slice(0, F.baselineText.indexOf("    - kind: ehe-team")) + F.baselineText.slice(F.baselineText.indexOf("fields:")), F.baseline)
    )
    const result = Baseline.load(F.bedfordText, noCouncils)
    expect(Either.isLeft(result) && result.left.issues.map((i) => [i.rule, i.path])).toEqual([
      ["no-other-recipient-kinds", "recipients.kinds.1.kind"],
      ["no-other-recipient-kinds", "recipients.kinds.2.kind"]
    ])
  })

  it("cross-border sharing wider than a baseline's list is refused", () => {
    const listed = Either.getOrThrow(Baseline.load(F.baselineText.replace("  settingsIn: any", "  settingsIn: [E06000056]"), F.baseline))
    const result = Baseline.load(F.bedfordText, listed)
    expect(Either.isLeft(result) && result.left.issues.map((i) => i.rule)).toEqual(["no-wider-cross-border"])
  })

  it("every problem is listed, not only the first", () => {
    const text = edit('time: "08:30"', 'time: "10:00"', edit("    max: 17", "    max: 19"))
    expect(refusal(text).issues.map((i) => i.rule)).toEqual(["no-wider-ages", "no-later-deadline"])
  })

  it("TVP ISA 3: the TVP file loads, with warnings for the children and recipients it leaves to the force", () => {
    const result = Baseline.check(F.tvpText, F.baseline)
    expect(result.errors).toEqual([])
    expect(Option.isSome(result.agreement)).toBe(true)
    expect(result.warnings.map((w) => w.rule)).toEqual([
      "covers-fewer-presences",
      "requires-sign-up",
      "covers-fewer-recipient-kinds",
      "covers-fewer-recipient-kinds"
    ])
    const presence = result.warnings[0]
    expect([presence?.path, presence?.line]).toEqual(["children.presence.allowed", lineOf("allowed: [present, witness]", F.tvpText)])
    expect(presence?.message).toContain("not-present")
  })

  it("next school day (domain.md §1.3, requirement 8): check warns where an agreement counts weekdays only", () => {
    const result = Baseline.check(F.tvpWeekdaysText, F.baseline)
    expect(result.errors).toEqual([])
    const warning = result.warnings.find((w) => w.rule === "counts-weekdays-only")
    expect([warning?.path, warning?.line]).toEqual(["deadline.schoolDays", lineOf("schoolDays: weekdays", F.tvpWeekdaysText)])
    expect(warning?.message).toContain("school-calendar")
    for (const text of [F.tvpText, F.bedfordText, F.baselineText]) {
      expect(Baseline.check(text, F.baseline).warnings.map((w) => w.rule)).not.toContain("counts-weekdays-only")
    }
  })

  it("Bedford ISA 12: check warns that Bedford as filed is past its review, and not once a review is recorded", () => {
    const today = CalendarDate.CalendarDate.make("2026-11-23")
    expect(Baseline.check(F.bedfordText, F.baseline, { today }).warnings.map((w) => w.rule)).toContain("past-review")
    expect(Baseline.check(F.bedfordReviewedText, F.baseline, { today }).warnings.map((w) => w.rule)).not.toContain("past-review")
    expect(Baseline.reliedOnUntil(F.bedfordReviewed)).toEqual(Option.some("2027-12-31"))
  })

  it("check reports schema errors with key path and line, and no agreement", () => {
    const result = Baseline.check(edit("    - kind: setting", "    - kind: school"), F.baseline)
    expect(Option.isNone(result.agreement)).toBe(true)
    expect(result.errors[0]?.path).toBe("recipients.kinds.0.kind")
    expect(result.errors[0]?.line).toBe(lineOf("    - kind: setting", F.tvpText))
  })

  it("domain.md requirement 15: missing episodes need their own lawful basis and content profile", () => {
    const text = F.bedfordText.slice(0, F.bedfordText.indexOf("missingEpisode:")) + F.bedfordText.slice(F.bedfordText.indexOf("sensitive:"))
    const result = Baseline.check(text, F.baseline)
    expect(result.errors.map((e) => e.path)).toEqual(["missingEpisode"])
    expect(result.errors[0]?.message).toMatch(/lawful basis and content profile/)
  })
})
