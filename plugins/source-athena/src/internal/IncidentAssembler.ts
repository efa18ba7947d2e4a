/**
 * Turns what the XML reader found into Incidents and Rejections: checks the root element, decodes
 * each `<Occurrence>` as its end tag is read, and reports everything else. A rejected record
 * carries itself as a standalone export document (`Rejection.record`), for an operator to correct
 * and replay.
 */
import { Rejection } from "@encompass/domain"
import type { Ids } from "@encompass/domain"
import type { SourcePlugin } from "@encompass/plugin-sdk"
import type { Array as Arr } from "effect"
import { Either, Redacted } from "effect"
import type { Issue, Limits } from "./OccurrenceSchema.js"
import { decode, occurrenceRef, recordName } from "./OccurrenceSchema.js"
import type { XmlElement } from "./XmlElement.js"
import { serialise } from "./XmlElement.js"
import type { RecordStart, XmlItem } from "./XmlReader.js"

const rootName = "AthenaExport"
const schemaVersion = "1"

/** Issues listed in full in a reason; the rest are counted. */
const listed = 5

const describe = ([first, ...others]: Arr.NonEmptyReadonlyArray<Issue>): string => {
  const head = first.person === undefined ? first.message : `person ${first.person}: ${first.message}`
  const also = others
    .slice(0, listed - 1)
    .map((issue) => `; also ${issue.field}${issue.person === undefined ? "" : ` (person ${issue.person})`}: ${issue.message}`)
  const more = others.length >= listed ? `; and ${others.length - listed + 1} more` : ""
  return `${head}${also.join("")}${more}`
}

const where = (record: Pick<RecordStart, "ordinal" | "line">): string =>
  record.ordinal === undefined ? `line ${record.line}` : `occurrence ${record.ordinal} (line ${record.line})`

/** Why the root element is refused, with the attribute at fault; undefined when it is an Athena export's. */
const refuseRoot = (root: Omit<XmlElement, "children">): { readonly field: string; readonly reason: string } | undefined => {
  if (root.name !== rootName) return { field: rootName, reason: `the root element is not ${rootName}, so this is not an Athena export` }
  const version = root.attributes.find(([name]) => name === "schemaVersion")?.[1]
  if (version === undefined) return { field: `${rootName}/@schemaVersion`, reason: "is missing" }
  if (version.trim() !== schemaVersion) {
    return { field: `${rootName}/@schemaVersion`, reason: `expected ${schemaVersion}, the only version of this format` }
  }
  const unknown = root.attributes.find(([name]) => name !== "schemaVersion")
  return unknown === undefined ? undefined : { field: `${rootName}/@${unknown[0]}`, reason: "is not an attribute this format has" }
}

// Built from props this module has just checked or written itself.
const checked = { disableValidation: true } as const

export class IncidentAssembler {
  /** The rejection that ended the feed, once one has: nothing after it is read. */
  fatal: Rejection.Rejection | undefined
  private root: Omit<XmlElement, "children"> | undefined

  constructor(private readonly source: Ids.SourceId, private readonly limits: Limits & { readonly maxRecordChars: number }) {}

  accept(items: ReadonlyArray<XmlItem>): Array<SourcePlugin.Decoded> {
    const out: Array<SourcePlugin.Decoded> = []
    for (const item of items) {
      if (this.fatal !== undefined) break
      switch (item._tag) {
        case "Root": {
          this.root = item.root
          const refused = refuseRoot(item.root)
          if (refused !== undefined) out.push(this.halt(`line ${item.root.line}`, refused.reason, refused.field))
          break
        }
        case "Record":
          out.push(this.readRecord(item.ordinal, item.element))
          break
        case "Oversize": {
          const reason = `is longer than maxRecordChars (${this.limits.maxRecordChars} characters), so it is not read; decoding goes on after it`
          out.push(this.reject(where(item.record), reason, { occurrence: occurrenceRef(item.record.attributes) }))
          break
        }
        case "Text":
          out.push(this.reject(`line ${item.line}`, `text directly inside ${rootName}, outside any ${recordName}, is not read`))
          break
        case "Fatal": {
          const open = item.open
          const cut = open === undefined ? "" : `; ${open.ordinal === undefined ? `the element on line ${open.line}` : where(open)} is cut short`
          const reason = `${item.reason}${cut}`
          out.push(this.halt(`line ${item.line}, column ${item.column}`, reason, undefined, occurrenceRef(open?.attributes)))
          break
        }
      }
    }
    return out
  }

  private readRecord(ordinal: number | undefined, element: XmlElement): SourcePlugin.Decoded {
    const record = this.root === undefined ? undefined : Redacted.make(serialise(this.root, element))
    if (ordinal === undefined) {
      const reason = `${rootName} holds only ${recordName} elements`
      return this.reject(`line ${element.line}`, reason, { field: element.name, record })
    }
    const at = `occurrence ${ordinal}`
    return Either.match(decode(element, { source: this.source, where: at, limits: this.limits }), {
      onLeft: (issues) =>
        this.reject(`${at} (line ${element.line})`, describe(issues), {
          field: issues[0].field,
          occurrence: occurrenceRef(element.attributes),
          record
        }),
      onRight: (incident) => incident
    })
  }

  private reject(
    locator: string,
    reason: string,
    about: {
      readonly field?: string | undefined
      readonly occurrence?: Ids.OccurrenceRef | undefined
      readonly record?: Redacted.Redacted<string> | undefined
    } = {}
  ): Rejection.Rejection {
    return new Rejection.Rejection({
      source: this.source,
      locator,
      reason,
      ...(about.field === undefined ? {} : { field: about.field }),
      ...(about.occurrence === undefined ? {} : { occurrence: about.occurrence }),
      ...(about.record === undefined ? {} : { record: about.record })
    }, checked)
  }

  private halt(locator: string, reason: string, field?: string, occurrence?: Ids.OccurrenceRef): Rejection.Rejection {
    this.fatal = this.reject(locator, `${reason}; nothing after this point is read`, { field, occurrence })
    return this.fatal
  }
}
