/*
 * A therapist's week: EventCalendar's time grid, read-only, a column a day for this therapist alone, from
 * tomorrow on (three days on a phone, seven on a wider screen). Tapping an appointment opens its page.
 *
 * The feed sends the clinic's wall-clock times without an offset, and EventCalendar shows them as they are,
 * so the week reads the clinic's time whatever the time zone of this phone or computer. Dates handed back by
 * EventCalendar hold those wall-clock values in their local fields, so they are read with local getters.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("schedule-config").textContent);
  const element = document.getElementById("schedule-calendar");
  const titleElement = document.getElementById("cal-title");

  const { ymd, withId, eventNodes, describe, latestOnly } = window.ClinicCalendar;
  const narrowScreen = window.matchMedia("(max-width: 767.98px)").matches;

  function showError(message) {
    let alert = document.getElementById("schedule-error");
    if (!alert) {
      alert = document.createElement("div");
      alert.id = "schedule-error";
      alert.className = "alert alert-danger";
      alert.setAttribute("role", "alert");
      element.before(alert);
    }
    alert.textContent = message;
  }

  const loadEvents = latestOnly(
    (status) => `Your appointments could not load (${status}). Reload the page to try again.`,
    showError,
  );

  function eventsUrl(info) {
    const url = new URL(config.eventsUrl, window.location.origin);
    url.searchParams.set("start", ymd(info.start));
    url.searchParams.set("end", ymd(info.end));
    return url;
  }

  const weekday = (date) => date.toLocaleDateString("en-CA", { weekday: "short" });
  const month = (date) => date.toLocaleDateString("en-CA", { month: "short" });

  /** "Tue 8 – Mon 14 Dec 2026", or "Mon 28 Dec – Sun 3 Jan 2027", for the days shown (`end` is exclusive). */
  function rangeTitle(start, end) {
    const last = new Date(end.getFullYear(), end.getMonth(), end.getDate() - 1);
    const sameMonth = start.getMonth() === last.getMonth() && start.getFullYear() === last.getFullYear();
    const first = `${weekday(start)} ${start.getDate()}${sameMonth ? "" : ` ${month(start)}`}`;
    return `${first} – ${weekday(last)} ${last.getDate()} ${month(last)} ${last.getFullYear()}`;
  }

  function pressDays(days) {
    for (const button of document.querySelectorAll("[data-days]")) {
      const pressed = Number(button.dataset.days) === days;
      button.setAttribute("aria-pressed", String(pressed));
      button.classList.toggle("active", pressed);
    }
  }

  let days = narrowScreen ? 3 : 7;

  const calendar = EventCalendar.create(element, {
    view: "timeGridWeek",
    duration: { days },
    date: config.date,
    timeZone: config.utcOffset,
    headerToolbar: { start: "", center: "", end: "" },
    height: "auto",
    allDaySlot: false,
    firstDay: 1,
    slotMinTime: config.slotMinTime,
    slotMaxTime: config.slotMaxTime,
    flexibleSlotTimeLimits: true,
    slotDuration: "00:15:00",
    slotLabelInterval: "01:00",
    slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    dayHeaderFormat: { weekday: "short", day: "numeric" },
    nowIndicator: true,
    // Read-only: nothing is dragged, resized or picked; changes are the front desk's.
    editable: false,
    eventStartEditable: false,
    eventDurationEditable: false,
    selectable: false,
    eventSources: [
      { events: (info, success, failure) => loadEvents(eventsUrl(info), success, failure) },
    ],
    eventContent: eventNodes,
    eventDidMount: describe,
    eventClick: (info) => {
      if (info.event.extendedProps.kind === "appointment") {
        window.location.assign(withId(config.appointmentUrl, info.event.id));
      }
    },
    datesSet: (info) => {
      titleElement.textContent = rangeTitle(info.start, info.end);
      const query = new URLSearchParams(config.keep);
      query.set("date", ymd(info.start));
      history.replaceState(null, "", `?${query}`);
    },
  });

  pressDays(days);
  document.querySelector("[data-cal=prev]").addEventListener("click", () => calendar.prev());
  document.querySelector("[data-cal=next]").addEventListener("click", () => calendar.next());
  document
    .querySelector("[data-cal=tomorrow]")
    .addEventListener("click", () => calendar.setOption("date", config.tomorrow));
  for (const button of document.querySelectorAll("[data-days]")) {
    button.addEventListener("click", () => {
      days = Number(button.dataset.days);
      calendar.setOption("duration", { days });
      pressDays(days);
    });
  }
  window.scheduleCalendar = calendar;
})();
