/**
 * The sender allow-list: which account may send from which envelope address, for which source,
 * and the attachment types each source takes. Addresses are personal data as far as the audit
 * log is concerned, so they leave this module only as a domain and a hash.
 */
import type { Ids } from "@encompass/domain"
import { Option } from "effect"
import { createHash } from "node:crypto"
import type { SmtpInboxConfig } from "../SmtpInboxConfig.js"

export interface AllowList {
  /** The source `account` may feed when sending from `address`, if the pair is allowed. */
  readonly source: (account: string, address: string) => Option.Option<Ids.SourceId>
  /** Why this attachment is not accepted for `source`, if it is not. */
  readonly refuseType: (source: Ids.SourceId, attachment: { readonly name: string; readonly contentType: string }) => Option.Option<string>
}

const key = (account: string, address: string) => `${account}\u0000${address.toLowerCase()}`

/** The file name's extension in lower case, or empty. */
export const extensionOf = (name: string): string => {
  const dot = name.lastIndexOf(".")
  return dot <= 0 ? "" : name.slice(dot + 1).toLowerCase()
}

export const make = (config: SmtpInboxConfig): AllowList => {
  const sources = new Map(config.senders.map((s) => [key(s.account, s.address), s.source]))
  const lower = (items: ReadonlyArray<string> | undefined) => items === undefined ? undefined : new Set(items.map((i) => i.toLowerCase()))
  const types = new Map(Object.entries(config.attachmentTypes).map(([source, t]) => [source, { extensions: lower(t.extensions), contentTypes: lower(t.contentTypes) }]))
  return {
    source: (account, address) => Option.fromNullable(sources.get(key(account, address))),
    refuseType: (source, attachment) => {
      const allowed = types.get(source)
      if (allowed?.extensions !== undefined && !allowed.extensions.has(extensionOf(attachment.name))) {
        return Option.some(`attachment extension not accepted for source ${source}`)
      }
      if (allowed?.contentTypes !== undefined && !allowed.contentTypes.has(attachment.contentType.toLowerCase())) {
        return Option.some(`attachment content type not accepted for source ${source}`)
      }
      return Option.none()
    }
  }
}

/**
 * What the audit log may say about an envelope address: its domain and the sha256 of the whole
 * address in lower case. The hash lets an investigator confirm a suspected address; it is
 * pseudonymous, not anonymous, as anyone can hash a guess.
 */
export const fingerprint = (address: string) => {
  const lower = address.toLowerCase()
  const at = lower.lastIndexOf("@")
  return { senderDomain: at < 0 ? "" : lower.slice(at + 1), senderSha256: createHash("sha256").update(lower).digest("hex") }
}
