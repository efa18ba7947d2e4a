/**
 * The private schema of one `<Occurrence>` and its decoding to a domain Incident (format:
 * README.md). Each value is decoded by the domain's own schema for the field it feeds (a name by
 * `Person.givenName`, a URN by `Ids.Urn` …), so the domain stays the one definition of what is
 * valid, and a failure is named by its path in the XML (`Occurrence/Person/DateOfBirth`).
 */
import { Address, Child, DecodeIssue, Ids, Incident, Person, SpreadsheetCell } from "@encompass/domain"
import type { Ids as IdTypes } from "@encompass/domain"
import { Array as Arr, Either, ParseResult, Schema } from "effect"
import type { XmlElement } from "./XmlElement.js"
import { isElement } from "./XmlElement.js"
import { XmlDateTime } from "./XmlDateTime.js"
import type { FieldIssue, Value } from "./XmlFields.js"
import { toValue } from "./XmlFields.js"

export const recordName = "Occurrence"

/** A field that may be left out, but when there must be valid (Effect's own `optional` also takes `undefined`). */
const optional = <A, I>(schema: Schema.Schema<A, I>) => Schema.optionalWith(schema, { exact: true })

/** An element that must appear exactly once: the list of its occurrences holds one. */
const Once = Schema.transformOrFail(Schema.Array(Schema.Unknown), Schema.Unknown, {
  strict: true,
  decode: (values, _, ast) => (values.length === 1 ? ParseResult.succeed(values[0]) : ParseResult.fail(new ParseResult.Type(ast, values))),
  encode: (value) => ParseResult.succeed([value])
}).annotations({
  message: (issue) => `appears ${Array.isArray(issue.actual) ? issue.actual.length : 0} times where once is expected`
})

const one = <A, I>(schema: Schema.Schema<A, I>): Schema.Schema<A, ReadonlyArray<unknown>> =>
  Schema.compose(Once, schema, { strict: false })

/** An element's text, which must not be empty. */
const Text = Schema.String.annotations({ message: () => "expected text only, with no attributes or elements" }).pipe(
  Schema.minLength(1, { message: () => "is empty" })
)

const text = <A>(schema: Schema.Schema<A, string>): Schema.Schema<A, ReadonlyArray<unknown>> => one(Schema.compose(Text, schema))

/** A fixed vocabulary of codes, each standing for one of the domain's literals. */
const code = <A extends string>(literals: Schema.Schema<A>, codes: Readonly<Record<string, A>>): Schema.Schema<A, string> => {
  const names = Object.keys(codes)
  const expected = `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`
  return Schema.transformOrFail(Schema.String, literals, {
    strict: true,
    decode: (name, _, ast) => {
      const literal = Object.hasOwn(codes, name) ? codes[name] : undefined
      return literal === undefined ? ParseResult.fail(new ParseResult.Type(ast, name)) : ParseResult.succeed(literal)
    },
    encode: (literal, _, ast) => {
      const name = names.find((n) => codes[n] === literal)
      return name === undefined ? ParseResult.fail(new ParseResult.Type(ast, literal)) : ParseResult.succeed(name)
    }
  }).annotations({ message: () => `expected ${expected}` })
}

const Category = code(Incident.IncidentCategory, { DOMESTIC_INCIDENT: "domestic", MISSING_EPISODE: "missing-episode", OTHER: "other" })
const Presence = code(Child.Presence, { PRESENT: "present", WITNESS: "witness", NOT_PRESENT: "not-present" })
const RiskGrading = code(Child.RiskGrading, { STANDARD: "standard", MEDIUM: "medium", HIGH: "high" })

/** An XML Schema boolean. */
const XmlBoolean = Schema.compose(
  Schema.String,
  Schema.transformLiterals(["true", true], ["false", false], ["1", true], ["0", false])
).annotations({ message: () => "expected true or false" })

const Version = Schema.String.pipe(
  Schema.pattern(/^\d{1,9}$/),
  Schema.compose(Schema.NumberFromString),
  Schema.compose(Incident.Incident.fields.version)
).annotations({ message: () => "expected a whole number from 1" })

/** An empty element whose presence is the information: `<ElectiveHomeEducation/>`. */
const Marker = Schema.Literal("").annotations({ message: () => "expected an empty element" })

/**
 * One or more `<Line>`s, joined with commas into the domain's one string of lines. Each line is
 * checked for a spreadsheet formula, not only the first (which the domain checks once joined).
 */
const Lines = Schema.compose(
  Schema.transform(Schema.NonEmptyArray(Schema.compose(Text, SpreadsheetCell.Text)), Schema.String, {
    strict: true,
    decode: (lines) => lines.join(", "),
    encode: (lines) => [lines] as const
  }),
  Address.Address.fields.lines
)

const AddressElement = Schema.Struct({
  "@localAuthority": optional(Ids.LocalAuthorityCode),
  Line: Lines,
  Postcode: optional(text(Address.Address.fields.postcode.from)),
  Uprn: optional(text(Address.Address.fields.uprn.from))
}).annotations({ message: () => "expected Line elements, and Postcode and Uprn if known" })
type AddressElement = typeof AddressElement.Type

const SchoolElement = Schema.Struct({ "@urn": Ids.Urn }).annotations({ message: () => "expected an empty element with a urn attribute" })

const roles = ["CHILD", "VICTIM", "SUSPECT", "WITNESS", "INFORMANT", "OTHER"] as const
const adultRoles = roles.filter((role) => role !== "CHILD")

const ChildElement = Schema.Struct({
  "@ref": Child.Child.fields.ref,
  "@role": Schema.Literal("CHILD"),
  "@matchAmbiguous": optional(XmlBoolean),
  GivenName: text(Person.Person.fields.givenName),
  FamilyName: text(Person.Person.fields.familyName),
  DateOfBirth: text(Person.Person.fields.dateOfBirth),
  HomeAddress: one(AddressElement),
  Presence: text(Presence),
  PresenceLocation: optional(text(Child.Child.fields.presenceLocation.from)),
  School: optional(Schema.Array(SchoolElement)),
  ElectiveHomeEducation: optional(one(Marker)),
  RiskGrading: text(RiskGrading),
  Sensitive: text(XmlBoolean),
  VoiceOfChild: optional(text(Child.Child.fields.voiceOfChild.from))
})
type ChildElement = typeof ChildElement.Type

/**
 * Another person on the occurrence. The gateway notifies about children only, so an adult's
 * details are allowed but never read: they cannot hold up a child's notification, and they never
 * leave the plugin.
 */
const AdultElement = Schema.Struct({
  "@ref": Child.Child.fields.ref,
  "@role": Schema.Literal(...adultRoles),
  GivenName: optional(Schema.Unknown),
  FamilyName: optional(Schema.Unknown),
  DateOfBirth: optional(Schema.Unknown),
  HomeAddress: optional(Schema.Unknown)
})

const OccurrenceElement = Schema.Struct({
  "@ref": Incident.Incident.fields.occurrence,
  "@version": Schema.optionalWith(Version, { exact: true, default: () => 1 }),
  Category: text(Category),
  OccurredAt: text(XmlDateTime),
  Location: one(AddressElement),
  Circumstances: optional(text(Incident.Incident.fields.circumstances.from)),
  RepeatOf: optional(text(Ids.OccurrenceRef)),
  // Each Person is decoded by its role, below.
  Person: optional(Schema.Array(Schema.Unknown))
})

// Unknown elements and attributes are refused, so a changed export is noticed rather than half read.
const options = { errors: "all", onExcessProperty: "error" } as const
const decodeOccurrenceElement = Schema.decodeUnknownEither(OccurrenceElement, options)
const decodeChild = Schema.decodeUnknownEither(ChildElement, options)
const decodeAdult = Schema.decodeUnknownEither(AdultElement, options)
const isRole = Schema.is(Schema.Literal(...roles))
const isOccurrenceRef = Schema.is(Ids.OccurrenceRef)

/** What is wrong with a record: the field by its XML path, the person by number, never the value. */
export interface Issue {
  /** e.g. `Occurrence/Person/DateOfBirth`. */
  readonly field: string
  /** The person it concerns: 1 for the occurrence's first `<Person>`. */
  readonly person: number | undefined
  readonly message: string
}

/** `Person.1.HomeAddress.0.Postcode` → `Occurrence/Person/HomeAddress/Postcode`, person 2. */
const issueAt = (path: string, message: string): Issue => {
  const segments = path === "" ? [] : path.split(".")
  const person = segments[0] === "Person" && segments[1] !== undefined && /^\d+$/.test(segments[1]) ? Number(segments[1]) + 1 : undefined
  const field = [recordName, ...segments.filter((segment) => !/^\d+$/.test(segment))].join("/")
  return { field, person, message }
}

const join = (prefix: string, path: string): string => (prefix === "" ? path : path === "" ? prefix : `${prefix}.${path}`)

const fromParseError = (prefix: string, error: ParseResult.ParseError): Array<Issue> =>
  DecodeIssue.fromParseError(error).map((issue) => issueAt(join(prefix, issue.path), issue.message))

export interface Limits {
  readonly maxPersons: number
  readonly maxChildren: number
}

type Decoded =
  | {
    readonly _tag: "Child"
    readonly child: ChildElement
    readonly education: Arr.NonEmptyReadonlyArray<Child.Education>
    readonly index: number
  }
  | { readonly _tag: "Adult"; readonly ref: IdTypes.PersonRef; readonly index: number }

/** Each `School` in document order, repeats dropped, then elective home education; undefined when neither. */
const educationOf = (child: ChildElement): Arr.NonEmptyReadonlyArray<Child.Education> | undefined => {
  const urns = Arr.dedupe((child.School ?? []).map((school) => school["@urn"]))
  const all: Array<Child.Education> = urns.map((urn) => ({ _tag: "Setting", urn }))
  if (child.ElectiveHomeEducation !== undefined) all.push({ _tag: "ElectiveHomeEducation" })
  return Arr.isNonEmptyArray(all) ? all : undefined
}

const decodePerson = (value: unknown, index: number, issues: Array<Issue>): Decoded | undefined => {
  const role = typeof value === "object" && value !== null && "@role" in value ? value["@role"] : undefined
  const at = `Person.${index}`
  if (role === undefined || !isRole(role)) {
    const message = role === undefined ? "is missing" : `expected ${roles.slice(0, -1).join(", ")} or ${roles.at(-1)}`
    return void issues.push(issueAt(`${at}.@role`, message))
  }
  if (role === "CHILD") {
    return Either.match(decodeChild(value), {
      onLeft: (error) => void issues.push(...fromParseError(at, error)),
      onRight: (child) => {
        const education = educationOf(child)
        if (education === undefined) {
          return void issues.push(issueAt(`${at}.School`, "is missing: a child needs a School or ElectiveHomeEducation"))
        }
        return { _tag: "Child", child, education, index }
      }
    })
  }
  return Either.match(decodeAdult(value), {
    onLeft: (error) => void issues.push(...fromParseError(at, error)),
    onRight: (adult) => ({ _tag: "Adult", ref: adult["@ref"], index })
  })
}

/** Checks that need the whole occurrence: distinct refs, and not too many children. */
const checkPersons = (persons: ReadonlyArray<Decoded>, limits: Limits, issues: Array<Issue>): void => {
  const seen = new Map<string, number>()
  for (const person of persons) {
    const ref = person._tag === "Child" ? person.child["@ref"] : person.ref
    const earlier = seen.get(ref)
    if (earlier !== undefined) issues.push(issueAt(`Person.${person.index}.@ref`, `the same ref as person ${earlier + 1}`))
    else seen.set(ref, person.index)
  }
  const children = persons.filter((person) => person._tag === "Child").length
  if (children > limits.maxChildren) {
    issues.push(issueAt("Person", `has ${children} children, more than maxChildren (${limits.maxChildren})`))
  }
}

// A domain class constructor re-validates its props by compiling a parser on every call. Every
// value built here was just decoded by the same domain schemas, so construction skips that check.
const decoded = { disableValidation: true } as const

const address = (element: AddressElement): Address.Address =>
  new Address.Address({
    lines: element.Line,
    ...(element.Postcode === undefined ? {} : { postcode: element.Postcode }),
    ...(element.Uprn === undefined ? {} : { uprn: element.Uprn })
  }, decoded)

const toChild = ({ child, education }: Extract<Decoded, { _tag: "Child" }>, locator: string): Child.Child =>
  new Child.Child({
    ref: child["@ref"],
    person: new Person.Person({ givenName: child.GivenName, familyName: child.FamilyName, dateOfBirth: child.DateOfBirth }, decoded),
    homeAddress: address(child.HomeAddress),
    presence: child.Presence,
    education,
    riskGrading: child.RiskGrading,
    sensitive: child.Sensitive,
    locator,
    ...(child.HomeAddress["@localAuthority"] === undefined ? {} : { residenceLocalAuthority: child.HomeAddress["@localAuthority"] }),
    ...(child.PresenceLocation === undefined ? {} : { presenceLocation: child.PresenceLocation }),
    ...(child.VoiceOfChild === undefined ? {} : { voiceOfChild: child.VoiceOfChild }),
    ...(child["@matchAmbiguous"] === undefined ? {} : { matchAmbiguous: child["@matchAmbiguous"] })
  }, decoded)

/** The occurrence reference on a record's start tag, when it is a valid one. */
export const occurrenceRef = (attributes: XmlElement["attributes"] | undefined): IdTypes.OccurrenceRef | undefined => {
  const ref = attributes?.find(([name]) => name === "ref")?.[1].trim()
  return isOccurrenceRef(ref) ? ref : undefined
}

export interface Context {
  readonly source: IdTypes.SourceId
  /** Where the occurrence is, e.g. `occurrence 3`; each child's locator adds its person and line. */
  readonly where: string
  readonly limits: Limits
}

export const decode = (element: XmlElement, context: Context): Either.Either<Incident.Incident, Arr.NonEmptyReadonlyArray<Issue>> => {
  const fieldIssues: Array<FieldIssue> = []
  const value: Value = toValue(element, "", fieldIssues)
  const issues = fieldIssues.map((issue) => issueAt(issue.path, issue.message))
  if (typeof value === "string") return Either.left([issueAt("", "has no attributes or elements")])
  const occurrence = Either.getOrUndefined(
    Either.mapLeft(decodeOccurrenceElement(value), (error) => issues.push(...fromParseError("", error)))
  )
  const listed = value["Person"]
  const people = Array.isArray(listed) ? listed : []
  let persons: Array<Decoded> = []
  if (people.length > context.limits.maxPersons) {
    issues.push(issueAt("Person", `has ${people.length} Person elements, more than maxPersons (${context.limits.maxPersons})`))
  } else {
    persons = people.flatMap((person, index) => decodePerson(person, index, issues) ?? [])
    if (issues.length === 0) checkPersons(persons, context.limits, issues)
  }
  if (Arr.isNonEmptyArray(issues) || occurrence === undefined) {
    return Either.left(Arr.isNonEmptyArray(issues) ? issues : [issueAt("", "could not be decoded")])
  }
  const lines = element.children.filter(isElement).filter((child) => child.name === "Person").map((person) => person.line)
  const children = persons.flatMap((person) =>
    person._tag === "Child" ? [toChild(person, `${context.where}, person ${person.index + 1} (line ${lines[person.index] ?? element.line})`)] : []
  )
  if (!Arr.isNonEmptyArray(children)) return Either.left([issueAt("Person", "no Person has the role CHILD")])
  return Either.right(
    new Incident.Incident({
      source: context.source,
      occurrence: occurrence["@ref"],
      version: occurrence["@version"],
      category: occurrence.Category,
      occurredAt: occurrence.OccurredAt,
      address: address(occurrence.Location),
      children,
      ...(occurrence.Location["@localAuthority"] === undefined ? {} : { localAuthority: occurrence.Location["@localAuthority"] }),
      ...(occurrence.Circumstances === undefined ? {} : { circumstances: occurrence.Circumstances }),
      ...(occurrence.RepeatOf === undefined ? {} : { repeatOf: occurrence.RepeatOf })
    }, decoded)
  )
}
