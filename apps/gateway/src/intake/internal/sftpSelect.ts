/**
 * Which files of a drop are complete enough to take. Two guards, because a force's exporter may
 * use either: the `.part`/dotfile convention (written under a temporary name, renamed when
 * done), and size and modification time unchanged across polls for `stableFor`.
 */
import { Either } from "effect"

export interface RemoteFile {
  readonly name: string
  readonly size: number
  /** Milliseconds since the epoch, whole seconds (SFTP v3 has no finer time). */
  readonly modifyTime: number
}

export type Matcher = (name: string) => boolean

const globToRegExp = (glob: string): RegExp =>
  new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".")}$`)

/** A glob, or a regular expression written `/…/flags`; Left says why a pattern is unusable. */
export const compilePattern = (pattern: string): Either.Either<Matcher, string> => {
  const regex = /^\/(.+)\/([a-z]*)$/s.exec(pattern)
  if (regex === null) {
    const glob = globToRegExp(pattern)
    return Either.right((name) => glob.test(name))
  }
  const [, body = "", flags = ""] = regex
  // `g` and `y` make `test` remember where it stopped, so a name would match only every other time.
  if (/[gy]/.test(flags)) return Either.left("the regular expression must not use the g or y flag")
  try {
    const compiled = new RegExp(body, flags)
    return Either.right((name) => compiled.test(name))
  } catch (error) {
    return Either.left(`invalid regular expression: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Temporary (`*.part`) and hidden names are someone's work in progress, never a feed. */
export const isCandidate = (name: string, matches: Matcher): boolean =>
  !name.startsWith(".") && !name.endsWith(".part") && matches(name)

export interface Sighting {
  readonly size: number
  readonly modifyTime: number
  /** When the gateway first saw the file at this size and time (its own clock, in ms). */
  readonly since: number
}

export type Sightings = ReadonlyMap<string, Sighting>

export interface Judgement {
  /** Unchanged since an earlier poll at least `stableFor` ago; oldest first. */
  readonly ready: ReadonlyArray<RemoteFile>
  readonly unstable: ReadonlyArray<RemoteFile>
  /** What to remember for the next poll: only files still listed. */
  readonly sightings: Sightings
}

export const judge = (files: ReadonlyArray<RemoteFile>, previous: Sightings, now: number, stableForMillis: number): Judgement => {
  const ready: Array<RemoteFile> = []
  const unstable: Array<RemoteFile> = []
  const sightings = new Map<string, Sighting>()
  for (const file of files) {
    const seen = previous.get(file.name)
    const same = seen !== undefined && seen.size === file.size && seen.modifyTime === file.modifyTime
    const sighting = same ? seen : { size: file.size, modifyTime: file.modifyTime, since: now }
    sightings.set(file.name, sighting)
    // `same` needs an earlier poll, so even with stableFor 0 a file is seen twice before it is taken.
    if (same && now - sighting.since >= stableForMillis) ready.push(file)
    else unstable.push(file)
  }
  ready.sort((a, b) => a.modifyTime - b.modifyTime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { ready, unstable, sightings }
}

const tagged = (name: string, tag: string): string => {
  const dot = name.lastIndexOf(".")
  return dot > 0 ? `${name.slice(0, dot)}.${tag}${name.slice(dot)}` : `${name}.${tag}`
}

/**
 * Names to try, in order, for a file moved into `done/` or `failed/`: its own, then tagged
 * (`feed.1a2b3c4d5e6f.csv`), then tagged and salted, so an earlier file of that name is never
 * overwritten.
 */
export const asideNames = (name: string, tag: string, salt: string): ReadonlyArray<string> => [name, tagged(name, tag), tagged(name, `${tag}-${salt}`)]
