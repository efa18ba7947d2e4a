/**
 * Checks of the cells both directory files share — signed up, contacts, channel, pinned key —
 * each recording its problem under the column and giving the value, or undefined when bad.
 */
import { Ids, Setting } from "@encompass/domain"
import type { Array as Arr } from "effect"
import { Schema } from "effect"

const isEmail = Schema.is(Setting.EmailAddress)
const isChannel = Schema.is(Ids.ChannelId)
const isFingerprint = Schema.is(Ids.OpenPgpFingerprint)

const signedUpValues: Readonly<Record<string, boolean>> = { y: true, n: false }

export type Problem = (column: string, message: string) => void

export const signedUp = (cell: string, problem: Problem): boolean | undefined => {
  const value = signedUpValues[cell.toLowerCase()]
  if (value === undefined) problem("signed_up", "expected Y or N")
  return value
}

/** Every address must be good: one bad address beside good ones may be the wrong recipient's. */
export const contacts = (cell: string, problem: Problem): Arr.NonEmptyReadonlyArray<Setting.EmailAddress> | undefined => {
  const addresses = cell.split(";").map((a) => a.trim()).filter((a) => a !== "")
  if (addresses.length === 0) problem("contacts", "no contact address")
  addresses.forEach((address, index) => {
    if (!isEmail(address)) problem("contacts", `address ${index + 1} of ${addresses.length} is not an email address`)
  })
  const [first, ...rest] = addresses.filter(isEmail)
  return first === undefined || rest.length + 1 < addresses.length ? undefined : [first, ...rest]
}

export const channel = (cell: string, problem: Problem): Ids.ChannelId | undefined => {
  if (isChannel(cell)) return cell
  problem("channel", "a channel id is lowercase letters, digits and '-', e.g. secure-email")
  return undefined
}

/**
 * As GnuPG prints it (`gpg --fingerprint` groups it with spaces). `none` for an empty cell (the
 * recipient uses a password), undefined for a bad one.
 */
export const fingerprint = (cell: string, problem: Problem): Ids.OpenPgpFingerprint | "none" | undefined => {
  const compact = cell.replace(/\s+/g, "").toUpperCase()
  if (compact === "") return "none"
  if (isFingerprint(compact)) return compact
  problem("openpgp_fingerprint", "an OpenPGP fingerprint is 40 hex digits")
  return undefined
}
