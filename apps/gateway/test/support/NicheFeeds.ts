/**
 * Generated Niche RMS feeds (plugins/source-niche-rms/README.md) of a known number of
 * notifications under the Thames Valley agreement: each occurrence is a domestic incident with
 * one child, present, aged 6 to 13, not sensitive, at one of the demo directory's signed-up
 * settings (100001–100006) — so each occurrence gives exactly one notification.
 */
import { NicheRmsSource } from "@encompass/source-niche-rms"

const header = NicheRmsSource.columns.join(",")
const givenNames = ["Alfie", "Bella", "Cara", "Dan", "Evie", "Finn", "Gwen", "Hal", "Isla", "Jack", "Kit", "Lola"]
const familyNames = ["Testman", "Sample", "Example", "Fakeley", "Mockford", "Dummett", "Placeholder"]
const towns = [["Reading", "RG1"], ["Slough", "SL1"], ["Oxford", "OX1"], ["High Wycombe", "HP11"], ["Milton Keynes", "MK9"]] as const

const pick = <A>(values: ReadonlyArray<A>, n: number): A => values[n % values.length] as A

/** The occurrence reference of occurrence number `n` (from 1) of `batch`. */
export const occurrenceOf = (batch: number, n: number) => `43/${String(batch).padStart(2, "0")}${String(n).padStart(5, "0")}/26`

/** One feed of `count` occurrences, numbered `first` onwards; a different `batch` gives other references. */
export const feed = (options: { readonly batch: number; readonly first?: number | undefined; readonly count: number }): string => {
  const rows = [header]
  const first = options.first ?? 1
  for (let n = first; n < first + options.count; n++) {
    const [town, district] = pick(towns, n)
    const address = `"${1 + (n % 120)} Elm Road, ${town}"`
    const postcode = `${district} ${1 + (n % 9)}AB`
    const day = 16 + (n % 5)
    const when = `2026-11-${day}T${String(n % 24).padStart(2, "0")}:${String(n % 60).padStart(2, "0")}`
    const dob = `20${13 + (n % 7)}-0${1 + (n % 9)}-1${n % 9}`
    const urn = `10000${1 + (n % 6)}`
    rows.push(
      `${occurrenceOf(options.batch, n)},${when},domestic,${address},${postcode},1,P-${options.batch}-${n},${pick(givenNames, n)},${
        pick(familyNames, n)
      },${dob},${address},${postcode},present,${urn},standard,N`
    )
  }
  return `${rows.join("\n")}\n`
}
