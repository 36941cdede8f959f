// Times on the venue's forms are the venue's wall clock (its IANA timezone), whatever the
// browser's own zone: "20:00" at a Paris venue is 20:00 in Paris, typed from anywhere.
"use strict";
window.venueTime = (function () {
  // How far the zone's wall clock is ahead of UTC at this instant, in ms.
  function offsetMs(instantMs, timeZone) {
    const parts = {};
    for (const part of new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(new Date(instantMs))) parts[part.type] = Number(part.value);
    const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
    return wall - Math.floor(instantMs / 1000) * 1000;
  }

  // "2031-05-01T20:00" (a datetime-local value) in timeZone -> ISO 8601 in UTC.
  function toIso(value, timeZone) {
    const [date, time] = String(value).split("T");
    const [year, month, day] = date.split("-").map(Number);
    const [hour, minute] = (time || "00:00").split(":").map(Number);
    const wall = Date.UTC(year, month - 1, day, hour, minute);
    let instant = wall - offsetMs(wall, timeZone);
    instant = wall - offsetMs(instant, timeZone);  // the offset there (a DST change between)
    return new Date(instant).toISOString();
  }

  // An instant (ISO 8601) as the venue's wall clock reads it, e.g. "1 May 2031, 20:00".
  function format(iso, timeZone) {
    return new Date(iso).toLocaleString(undefined, {timeZone, dateStyle: "medium", timeStyle: "short"});
  }

  // An instant (ISO 8601) as a datetime-local value on the venue's wall clock, the inverse
  // of toIso: what an edit form shows for a time that is already set.
  function toLocal(iso, timeZone) {
    const instant = new Date(iso).getTime();
    return new Date(instant + offsetMs(instant, timeZone)).toISOString().slice(0, 16);
  }

  return { toIso, format, toLocal };
})();
