/** Shared test data: the real agreement and calendar files, small directories and incident builders. */
import { Address, CalendarDate, Child, Ids, Incident, Person, Setting } from "@encompass/domain"
import { DateTime, Either, Option } from "effect"
import { readFileSync } from "node:fs"
import type { Eligibility } from "../src/index.js"
import { Agreement, SchoolCalendar } from "../src/index.js"

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), "utf8")

export const tvpText = read("agreements/tvp-schools.yaml")
export const tvp = Either.getOrThrow(Agreement.parse(tvpText))
/** TVP as it was before it used the calendar (plain weekdays): what `policy check` warns about. */
export const tvpWeekdaysText = tvpText.replace("  schoolDays: school-calendar\n  calendarRegion: thames-valley\n", "  schoolDays: weekdays\n")
export const tvpWeekdays = Either.getOrThrow(Agreement.parse(tvpWeekdaysText))
export const bedfordText = read("agreements/bedford-borough.yaml")
export const bedford = Either.getOrThrow(Agreement.parse(bedfordText))
/** Bedford with a review recorded, as the council would record one (Bedford ISA 12). */
export const bedfordReviewedText = bedfordText.replace(
  "  review: 2023-02-21\n",
  "  review: 2023-02-21\n  extendedUntil: 2027-12-31\n  extensionRecord: Test fixture - annual review recorded by the parties' SPOCs\n"
)
export const bedfordReviewed = Either.getOrThrow(Agreement.parse(bedfordReviewedText))
export const baselineText = read("agreements/statutory-baseline.yaml")
export const baseline = Either.getOrThrow(Agreement.parse(baselineText))
export const calendarText = read("calendars/england-2025-2027.yaml")
export const calendar = Either.getOrThrow(SchoolCalendar.parse(calendarText))

export const agreements: Readonly<Record<string, Agreement.Agreement>> = {
  "tvp-schools": tvp,
  "bedford-borough": bedford,
  "bedford-borough-reviewed": bedfordReviewed,
  "statutory-baseline": baseline
}

export const urn = (value: string): Ids.Urn => Ids.Urn.make(value)

export const la = (code: string): Ids.LocalAuthorityCode => Ids.LocalAuthorityCode.make(code)
export const BEDFORD = la("E06000055")
export const CENTRAL_BEDS = la("E06000056")
export const LUTON = la("E06000032")
export const MILTON_KEYNES = la("E06000042")

interface SettingExtras {
  readonly localAuthority?: Ids.LocalAuthorityCode
  readonly pupils?: number
  readonly contacts?: number
  readonly kind?: Setting.SettingKind
}

const setting = (value: string, name: string, signedUp: boolean, channel = "secure-email", extras: SettingExtras = {}): Setting.Setting =>
  new Setting.Setting({
    urn: urn(value),
    name,
    kind: extras.kind ?? "school",
    signedUp,
    contacts: [
      Setting.EmailAddress.make(`dsl@${value}.sch.example`),
      ...Array.from({ length: (extras.contacts ?? 1) - 1 }, (_, i) => Setting.EmailAddress.make(`spoc${i + 2}@${value}.sch.example`))
    ],
    channel: Ids.ChannelId.make(channel),
    ...(extras.localAuthority !== undefined && { localAuthority: extras.localAuthority }),
    ...(extras.pupils !== undefined && { pupils: extras.pupils })
  })

export const alder = setting("100001", "Alder Primary School", true)

export const settings: ReadonlyArray<Setting.Setting> = [
  alder,
  setting("100002", "Beech Primary School", true),
  setting("100003", "Cedar Secondary School", true),
  setting("100007", "Larch Academy", false),
  setting("100008", "Maple College", true, "sftp"),
  // Bedford Borough and its neighbours (Bedford ISA 8, 10, 14).
  setting("200001", "Bedford Primary", true, "secure-email", { localAuthority: BEDFORD, pupils: 300 }),
  setting("200002", "Bedford Upper School", true, "secure-email", { localAuthority: BEDFORD, pupils: 1200, contacts: 3 }),
  setting("200003", "Bedford Lower School", true, "secure-email", { localAuthority: BEDFORD, pupils: 300, contacts: 2 }),
  setting("200004", "Luton Academy", true, "secure-email", { localAuthority: LUTON }),
  setting("200005", "Milton Keynes School", true, "secure-email", { localAuthority: MILTON_KEYNES }),
  setting("200006", "Bedford Unsigned School", false, "secure-email", { localAuthority: BEDFORD }),
  setting("200007", "Bedford Sftp School", true, "sftp", { localAuthority: BEDFORD }),
  setting("200008", "Bedford Independent School", true, "secure-email", { localAuthority: BEDFORD, kind: "independent-school" }),
  setting("200009", "Bedford Upper College", true, "secure-email", { localAuthority: BEDFORD, pupils: 1200, contacts: 4 }),
  setting("200010", "Central Bedfordshire Middle", true, "secure-email", { localAuthority: CENTRAL_BEDS })
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

const authority = (kind: Eligibility.AuthorityContact["kind"], code: Ids.LocalAuthorityCode, signedUp: boolean): Eligibility.AuthorityContact => ({
  kind,
  localAuthority: code,
  name: `${kind} ${code}`,
  signedUp,
  contacts: [`${kind}@${code}.gov.example`],
  channel: Ids.ChannelId.make("secure-email")
})

export const authorities: ReadonlyArray<Eligibility.AuthorityContact> = [
  authority("ehe-team", BEDFORD, true),
  authority("council-front-door", BEDFORD, true),
  authority("ehe-team", CENTRAL_BEDS, false)
]

export const lookupAuthority = (kind: Eligibility.AuthorityContact["kind"], code: Ids.LocalAuthorityCode) =>
  Option.fromNullable(authorities.find((a) => a.kind === kind && a.localAuthority === code))

export const options = { lookupSetting, reference }
export const fullOptions = { lookupSetting, lookupAuthority, reference, calendar }

export const at = (iso: string): DateTime.Utc => DateTime.unsafeMake(iso)

export interface ChildSpec {
  readonly ref?: string
  readonly givenName?: string
  readonly dateOfBirth?: string
  readonly presence?: Child.Presence
  readonly schools?: ReadonlyArray<string | "EHE">
  readonly riskGrading?: Child.RiskGrading
  readonly sensitive?: boolean
  readonly residence?: string
  readonly ambiguous?: boolean
  readonly presenceLocation?: string
  readonly voiceOfChild?: string
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
    locator: "line 2",
    ...(spec.residence !== undefined && { residenceLocalAuthority: la(spec.residence) }),
    ...(spec.ambiguous !== undefined && { matchAmbiguous: spec.ambiguous }),
    ...(spec.presenceLocation !== undefined && { presenceLocation: spec.presenceLocation }),
    ...(spec.voiceOfChild !== undefined && { voiceOfChild: spec.voiceOfChild })
  })
}

export interface IncidentSpec {
  readonly category?: Incident.IncidentCategory
  readonly occurredAt?: string
  readonly version?: number
  readonly children?: ReadonlyArray<Child.Child>
  readonly localAuthority?: string
  readonly circumstances?: string
  readonly repeatOf?: string
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
    children: [first, ...rest],
    ...(spec.localAuthority !== undefined && { localAuthority: la(spec.localAuthority) }),
    ...(spec.circumstances !== undefined && { circumstances: spec.circumstances }),
    ...(spec.repeatOf !== undefined && { repeatOf: Ids.OccurrenceRef.make(spec.repeatOf) })
  })
}
