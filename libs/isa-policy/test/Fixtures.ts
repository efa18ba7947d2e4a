/** Shared test data: the real TVP agreement file, a small directory and incident builders. */
import { Address, CalendarDate, Child, Ids, Incident, Person, Setting } from "@encompass/domain"
import { DateTime, Either, Option } from "effect"
import { readFileSync } from "node:fs"
import { Agreement } from "../src/index.js"

export const tvpText = readFileSync(new URL("../agreements/tvp-schools.yaml", import.meta.url), "utf8")
export const tvp = Either.getOrThrow(Agreement.parse(tvpText))

export const urn = (value: string): Ids.Urn => Ids.Urn.make(value)

const setting = (value: string, name: string, signedUp: boolean, channel = "secure-email"): Setting.Setting =>
  new Setting.Setting({
    urn: urn(value),
    name,
    kind: "school",
    signedUp,
    contacts: [Setting.EmailAddress.make(`dsl@${value}.sch.example`)],
    channel: Ids.ChannelId.make(channel)
  })

export const alder = setting("100001", "Alder Primary School", true)

export const settings: ReadonlyArray<Setting.Setting> = [
  alder,
  setting("100002", "Beech Primary School", true),
  setting("100003", "Cedar Secondary School", true),
  setting("100007", "Larch Academy", false),
  setting("100008", "Maple College", true, "sftp")
]

export const lookupSetting = (value: Ids.Urn): Option.Option<Setting.Setting> =>
  Option.fromNullable(settings.find((s) => s.urn === value))

/** A deterministic stand-in for the gateway's keyed hash. */
export const reference = (key: Ids.IdempotencyKey): Ids.GatewayRef => {
  let h = 0xcbf29ce484222325n
  for (const c of key) h = ((h ^ BigInt(c.charCodeAt(0))) * 0x100000001b3n) & 0xffffffffffffn
  const hex = h.toString(16).toUpperCase().padStart(12, "0")
  return Ids.GatewayRef.make(`EG-${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}`)
}

export const options = { lookupSetting, reference }

export const at = (iso: string): DateTime.Utc => DateTime.unsafeMake(iso)

export interface ChildSpec {
  readonly ref?: string
  readonly givenName?: string
  readonly dateOfBirth?: string
  readonly presence?: Child.Presence
  readonly schools?: ReadonlyArray<string | "EHE">
  readonly riskGrading?: Child.RiskGrading
  readonly sensitive?: boolean
}

export const child = (spec: ChildSpec = {}): Child.Child => {
  const [first = "100001", ...rest] = spec.schools ?? ["100001"]
  const education = (s: string): Child.Education =>
    s === "EHE" ? { _tag: "ElectiveHomeEducation" } : { _tag: "Setting", urn: urn(s) }
  return new Child.Child({
    ref: Ids.PersonRef.make(spec.ref ?? "P1"),
    person: new Person.Person({
      givenName: spec.givenName ?? "Ada",
      familyName: "Example",
      dateOfBirth: CalendarDate.CalendarDate.make(spec.dateOfBirth ?? "2017-03-01")
    }),
    homeAddress: new Address.Address({ lines: "1 Example Road, Reading", postcode: "RG1 1AA" }),
    presence: spec.presence ?? "present",
    education: [education(first), ...rest.map(education)],
    riskGrading: spec.riskGrading ?? "high",
    sensitive: spec.sensitive ?? false,
    locator: "line 2"
  })
}

export interface IncidentSpec {
  readonly category?: Incident.IncidentCategory
  readonly occurredAt?: string
  readonly version?: number
  readonly children?: ReadonlyArray<Child.Child>
}

export const incident = (spec: IncidentSpec = {}): Incident.Incident => {
  const [first = child(), ...rest] = spec.children ?? []
  return new Incident.Incident({
    source: Ids.SourceId.make("niche-rms"),
    occurrence: Ids.OccurrenceRef.make("43/12345/26"),
    version: spec.version ?? 1,
    category: spec.category ?? "domestic",
    occurredAt: at(spec.occurredAt ?? "2026-03-02T21:00:00Z"),
    address: new Address.Address({ lines: "2 Sample Street, Reading", postcode: "RG1 2BB" }),
    children: [first, ...rest]
  })
}
