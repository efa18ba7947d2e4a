/** The Niche export's columns under their canonical names: the default layout, and the keys of a field mapping. */

/** The columns, in the order the README documents them. */
export const columns = [
  "occurrence_number",
  "incident_datetime",
  "incident_category",
  "incident_address",
  "incident_postcode",
  "version",
  "person_ref",
  "child_given_name",
  "child_family_name",
  "child_dob",
  "home_address",
  "home_postcode",
  "presence",
  "school_urn",
  "risk_grading",
  "sensitive"
] as const
export type Column = (typeof columns)[number]

/** Columns the header may leave out. */
export const optionalColumns: ReadonlySet<Column> = new Set<Column>(["version"])

/** Columns whose quoted values may run over several lines. */
export const multiLineColumns: ReadonlySet<Column> = new Set<Column>(["incident_address", "home_address"])

/** Coded columns a mapping may give a value map for. */
export const codedColumns = ["incident_category", "presence", "risk_grading", "sensitive"] as const
export type CodedColumn = (typeof codedColumns)[number]
