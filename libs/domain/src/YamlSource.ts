/**
 * YAML reading that keeps node positions, so a problem in a configuration file (an agreement, a
 * region, a field mapping) is reported at its key path and line rather than as a bare "invalid".
 * Pair it with `DecodeIssue`, whose messages never quote the value.
 */
import type { Document, Range } from "yaml"
import { LineCounter, isMap, isNode, isScalar, isSeq, parseDocument } from "yaml"

export type Path = ReadonlyArray<PropertyKey>

export interface Problem {
  /** Dotted key path, e.g. `recipients.kinds.0.kind`; empty for the document itself. */
  readonly path: string
  readonly line: number
  readonly column: number
  readonly message: string
}

export interface Source {
  readonly document: Document.Parsed
  readonly lines: LineCounter
  readonly value: unknown
  readonly problems: ReadonlyArray<Problem>
}

export const formatPath = (path: Path): string => path.map(String).join(".")

const position = (lines: LineCounter, offset: number): { line: number; column: number } => {
  const { line, col } = lines.linePos(offset)
  return { line, column: col }
}

const keyOf = (key: unknown): string | undefined => (isScalar(key) ? String(key.value) : undefined)

const rangeOf = (node: unknown): Range | undefined => (isNode(node) && node.range ? node.range : undefined)

/** The key path of the deepest node whose source text spans `offset`. */
const pathAt = (node: unknown, offset: number, path: Array<string | number>): Array<string | number> => {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = keyOf(pair.key)
      const start = rangeOf(pair.key)?.[0]
      const end = rangeOf(pair.value)?.[2] ?? rangeOf(pair.key)?.[2]
      if (key !== undefined && start !== undefined && end !== undefined && start <= offset && offset <= end) {
        return pathAt(pair.value, offset, [...path, key])
      }
    }
  }
  if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) {
      const range = rangeOf(item)
      if (range !== undefined && range[0] <= offset && offset <= range[2]) return pathAt(item, offset, [...path, index])
    }
  }
  return path
}

/** Parses the text; syntax errors, warnings and alias abuse all become located problems. */
export const read = (text: string): Source => {
  const lines = new LineCounter()
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const problems: Array<Problem> = [...document.errors, ...document.warnings].map((e) => ({
    path: formatPath(pathAt(document.contents, e.pos[0], [])),
    ...position(lines, e.pos[0]),
    message: e.message
  }))
  if (problems.length > 0) return { document, lines, value: undefined, problems }
  try {
    return { document, lines, value: document.toJS({ maxAliasCount: 100 }), problems }
  } catch (e) {
    const message = e instanceof Error ? e.message : "could not be read"
    return { document, lines, value: undefined, problems: [{ path: "", line: 1, column: 1, message }] }
  }
}

/**
 * The position of `path` in the document: the key itself when present, otherwise the nearest
 * ancestor that exists (a missing key is reported where its parent starts).
 */
export const locate = (source: Source, path: Path): { line: number; column: number } => {
  let node: unknown = source.document.contents
  let offset = rangeOf(node)?.[0] ?? 0
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => keyOf(p.key) === String(segment))
      if (pair === undefined) break
      offset = rangeOf(pair.key)?.[0] ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof segment === "number" && node.items[segment] !== undefined) {
      node = node.items[segment]
      offset = rangeOf(node)?.[0] ?? offset
    } else {
      break
    }
  }
  return position(source.lines, offset)
}

/** Schema issues at their key path and line; a union's failures at one path are one issue. */
export const issuesOf = (source: Source, issues: ReadonlyArray<{ readonly path: Path; readonly message: string }>): Array<Problem> => {
  const byPath = new Map<string, { path: Path; messages: Array<string> }>()
  for (const issue of issues) {
    const entry = byPath.get(formatPath(issue.path))
    if (entry === undefined) byPath.set(formatPath(issue.path), { path: issue.path, messages: [issue.message] })
    else if (!entry.messages.includes(issue.message)) entry.messages.push(issue.message)
  }
  return Array.from(byPath.values(), ({ messages, path }) => ({ path: formatPath(path), ...locate(source, path), message: messages.join("; or ") }))
}
