import { Schema } from "effect"
import { CalendarDate } from "./CalendarDate.js"
import { noFormula } from "./SpreadsheetCell.js"

/**
 * A person's name and date of birth as the source recorded them. A name a spreadsheet would run
 * (`=HYPERLINK(…)`) is refused: no one is called that, and the DSL opens what we send.
 */
export class Person extends Schema.Class<Person>("Person")({
  givenName: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(100), noFormula),
  familyName: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(100), noFormula),
  dateOfBirth: CalendarDate
}) {}
