/**
 * The small part of semver the manifests need: `MAJOR.MINOR.PATCH` versions (an optional
 * pre-release tag is kept but ignored in comparisons) and ranges written as an exact version,
 * `^x.y.z`, `~x.y.z`, or space-separated comparators (`>=0.1.0 <0.3.0`).
 */
const versionPattern = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$/

type Triple = readonly [number, number, number]

export const parse = (version: string): Triple | undefined => {
  const match = versionPattern.exec(version)
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])]
}

const compare = (a: Triple, b: Triple): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]

const comparatorPattern = /^(\^|~|>=|<=|>|<|=)?(.+)$/

/** One comparator as a predicate, or undefined when it is not one we read. */
const comparator = (text: string): ((v: Triple) => boolean) | undefined => {
  const match = comparatorPattern.exec(text)
  const bound = match === null ? undefined : parse(match[2] ?? "")
  if (match === null || bound === undefined) return undefined
  switch (match[1]) {
    case "^": {
      // Caret: changes left of the first non-zero part are breaking.
      const upper: Triple = bound[0] > 0 ? [bound[0] + 1, 0, 0] : bound[1] > 0 ? [0, bound[1] + 1, 0] : [0, 0, bound[2] + 1]
      return (v) => compare(v, bound) >= 0 && compare(v, upper) < 0
    }
    case "~":
      return (v) => compare(v, bound) >= 0 && compare(v, [bound[0], bound[1] + 1, 0]) < 0
    case ">=":
      return (v) => compare(v, bound) >= 0
    case "<=":
      return (v) => compare(v, bound) <= 0
    case ">":
      return (v) => compare(v, bound) > 0
    case "<":
      return (v) => compare(v, bound) < 0
    default:
      return (v) => compare(v, bound) === 0
  }
}

const comparators = (range: string): ReadonlyArray<(v: Triple) => boolean> | undefined => {
  const parts = range.trim().split(/\s+/).map(comparator)
  return parts.every((p) => p !== undefined) ? (parts as ReadonlyArray<(v: Triple) => boolean>) : undefined
}

export const isVersion = (text: string): boolean => parse(text) !== undefined

export const isRange = (text: string): boolean => text.trim() !== "" && comparators(text) !== undefined

/** Whether `version` lies in `range`; false when either cannot be read. */
export const satisfies = (version: string, range: string): boolean => {
  const v = parse(version)
  const cs = comparators(range)
  return v !== undefined && cs !== undefined && cs.every((c) => c(v))
}
