import { Schema } from "effect"
import { CalendarDate } from "./CalendarDate.js"

/** A person's name and date of birth as the source recorded them. */
export class Person extends Schema.Class<Person>("Person")({
  givenName: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(100)),
  familyName: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(100)),
  dateOfBirth: CalendarDate
}) {}
