/**
 * A self-contained HTML page for a person to read (the audit export, the breach report): inline
 * style, no script, no external asset, every value escaped.
 */

export const escape = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;"))

export type Cell = string | number | null | undefined | ReadonlyArray<string>

const cell = (value: Cell): string =>
  value === null || value === undefined || value === "" ? "—" : Array.isArray(value) ? escape(value.join(", ") || "—") : escape(String(value))

export interface Section {
  readonly id: string
  readonly title: string
  /** A sentence saying what the table shows. */
  readonly note?: string | undefined
  readonly headers: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<Cell>>
}

const section = (s: Section): string =>
  [
    `<section id="${escape(s.id)}">`,
    `<h2>${escape(s.title)} <span class="count">(${s.rows.length})</span></h2>`,
    ...(s.note === undefined ? [] : [`<p>${escape(s.note)}</p>`]),
    s.rows.length === 0
      ? "<p class=\"none\">None.</p>"
      : [
        "<table>",
        `<thead><tr>${s.headers.map((h) => `<th scope="col">${escape(h)}</th>`).join("")}</tr></thead>`,
        `<tbody>${s.rows.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join("")}</tr>`).join("\n")}</tbody>`,
        "</table>"
      ].join("\n"),
    "</section>"
  ].join("\n")

const style = `body{font-family:system-ui,sans-serif;margin:2rem;color:#111;max-width:110rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;font-size:.85rem}th,td{border:1px solid #bbb;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#eee}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}
.count,.none{color:#555}td{overflow-wrap:anywhere}`

export const page = (options: {
  readonly title: string
  readonly facts: ReadonlyArray<readonly [string, string]>
  readonly intro: string
  readonly sections: ReadonlyArray<Section>
}): string =>
  [
    "<!DOCTYPE html>",
    "<html lang=\"en-GB\">",
    "<head>",
    "<meta charset=\"utf-8\">",
    // Nothing may load from anywhere: the page is read offline, perhaps by a regulator.
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
    `<title>${escape(options.title)}</title>`,
    `<style>${style}</style>`,
    "</head>",
    "<body>",
    `<h1>${escape(options.title)}</h1>`,
    `<dl>${options.facts.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`).join("")}</dl>`,
    `<p>${escape(options.intro)}</p>`,
    ...options.sections.map(section),
    "</body>",
    "</html>",
    ""
  ].join("\n")
