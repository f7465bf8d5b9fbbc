/*
 * The front desk calendar: EventCalendar's resource time grid, one column per therapist.
 *
 * The feed sends the clinic's wall-clock times without an offset, and EventCalendar shows them as they are,
 * so the calendar reads the clinic's time whatever the time zone of this computer. Dates handed back by
 * EventCalendar hold those wall-clock values in their local fields, so they are read with local getters.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("calendar-config").textContent);
  const element = document.getElementById("calendar");
  const panelElement = document.getElementById("panel");
  const panelBody = document.getElementById("panel-body");
  const titleElement = document.getElementById("cal-title");
  const dateInput = document.getElementById("cal-date");
  const therapistSelect = document.getElementById("cal-therapist");
  const csrfToken = document.querySelector("[name=csrfmiddlewaretoken]").value;

  const { ymd, wallClock, withId, describe, latestOnly } = window.ClinicCalendar;

  function toast(message, kind) {
    const container = document.getElementById("toasts");
    const item = document.createElement("div");
    item.className = `toast align-items-center text-bg-${kind === "error" ? "danger" : "success"} border-0`;
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    const row = document.createElement("div");
    row.className = "d-flex";
    const body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = message;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white me-2 m-auto";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", "Close");
    row.append(body, close);
    item.append(row);
    container.append(item);
    const shown = new bootstrap.Toast(item, { delay: kind === "error" ? 8000 : 4000 });
    item.addEventListener("hidden.bs.toast", () => item.remove());
    shown.show();
  }

  const rangeQuery = (info) => `?start=${ymd(info.start)}&end=${ymd(info.end)}`;

  const failedToLoad = (status) => `The calendar could not load (${status}). Reload the page to try again.`;
  const showFailure = (message) => toast(message, "error");
  const loadResources = latestOnly(failedToLoad, showFailure);
  const loadEvents = latestOnly(failedToLoad, showFailure);

  let panel = null;
  function openPanel(url, title) {
    panel = panel || new bootstrap.Offcanvas(panelElement);
    document.getElementById("panel-title").textContent = title;
    panelBody.innerHTML = '<p class="text-body-secondary">Loading…</p>';
    panel.show();
    htmx.ajax("GET", url, { target: "#panel-body", swap: "innerHTML" });
  }

  async function moveAppointment(info) {
    const therapist = info.newResource ? info.newResource.id : info.event.resourceIds[0];
    const body = new URLSearchParams({ start: wallClock(info.event.start), therapist: String(therapist) });
    let response;
    try {
      response = await fetch(withId(config.moveUrl, info.event.id), {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken },
        body,
        credentials: "same-origin",
      });
    } catch (error) {
      info.revert();
      toast("The move could not be sent: check the connection and try again.", "error");
      return;
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      info.revert();
      toast(answer.error || `The move was refused (${response.status}).`, "error");
      return;
    }
    toast(answer.message, "success");
    calendar.refetchEvents();
  }

  // The week of every therapist is one column a day (with the therapist named on each appointment);
  // the week of one therapist, and every day view, has a column per therapist with their closed times shaded.
  const views = { day: "resourceTimeGridDay", week: "resourceTimeGridWeek", weekAll: "timeGridWeek" };
  const viewFor = (name) => (name === "week" ? (therapistSelect.value ? views.week : views.weekAll) : views.day);

  const calendar = EventCalendar.create(element, {
    view: viewFor(config.view),
    date: config.date,
    timeZone: config.utcOffset,
    headerToolbar: { start: "", center: "", end: "" },
    height: "auto",
    allDaySlot: false,
    datesAboveResources: true,
    firstDay: 1,
    slotMinTime: config.slotMinTime,
    slotMaxTime: config.slotMaxTime,
    slotDuration: "00:15:00",
    slotLabelInterval: "01:00",
    snapDuration: "00:05:00",
    slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    dayHeaderFormat: { weekday: "short", day: "numeric", month: "short" },
    nowIndicator: true,
    editable: true,
    eventDurationEditable: false,
    refetchResourcesOnNavigate: true,
    resources: (info, success, failure) => {
      loadResources(config.resourcesUrl + rangeQuery(info), success, failure, (therapists) => {
        fillTherapistFilter(therapists);
        const only = therapistSelect.value;
        return only ? therapists.filter((therapist) => therapist.id === only) : therapists;
      });
    },
    eventSources: [{ events: (info, success, failure) => loadEvents(config.eventsUrl + rangeQuery(info), success, failure) }],
    eventContent: (info) => window.ClinicCalendar.eventNodes(info, { showTherapist: info.view.type === views.weekAll }),
    eventDidMount: describe,
    eventFilter: (info) => info.view.type !== views.weekAll || info.event.display !== "background",
    eventClick: (info) => {
      if (info.event.extendedProps.kind === "appointment") {
        openPanel(withId(config.appointmentUrl, info.event.id), info.event.extendedProps.patient);
      }
    },
    dateClick: (info) => {
      if (config.bookUrl) {
        const query = new URLSearchParams({ start: wallClock(info.date) });
        if (info.resource) query.set("therapist", info.resource.id);
        openPanel(`${config.bookUrl}?${query}`, "New booking");
      }
    },
    eventDrop: moveAppointment,
    datesSet: (info) => {
      titleElement.textContent = rangeTitle(info.start, info.end);
      dateInput.value = ymd(calendar ? calendar.getOption("date") : info.start);
      const query = new URLSearchParams({ date: dateInput.value, view: currentView() });
      history.replaceState(null, "", `?${query}`);
      for (const button of document.querySelectorAll("[data-view]")) {
        const pressed = button.dataset.view === currentView();
        button.setAttribute("aria-pressed", String(pressed));
        button.classList.toggle("active", pressed);
      }
    },
  });

  /** "Friday, November 27, 2026" for a day, "Nov 23 – Nov 29, 2026" for a week (`end` is exclusive). */
  function rangeTitle(start, end) {
    const last = new Date(end.getFullYear(), end.getMonth(), end.getDate() - 1);
    if (ymd(start) === ymd(last)) {
      return start.toLocaleDateString("en-CA", { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    }
    const short = { day: "numeric", month: "short" };
    return `${start.toLocaleDateString("en-CA", short)} – ${last.toLocaleDateString("en-CA", { ...short, year: "numeric" })}`;
  }

  function currentView() {
    return calendar && calendar.getOption("view") !== views.day ? "week" : "day";
  }

  function fillTherapistFilter(therapists) {
    const chosen = therapistSelect.value;
    therapistSelect.replaceChildren(new Option("All therapists", ""));
    for (const therapist of therapists) {
      therapistSelect.append(new Option(therapist.title, therapist.id, false, therapist.id === chosen));
    }
  }

  document.querySelector("[data-cal=prev]").addEventListener("click", () => calendar.prev());
  document.querySelector("[data-cal=next]").addEventListener("click", () => calendar.next());
  document.querySelector("[data-cal=today]").addEventListener("click", () => calendar.setOption("date", config.today));
  dateInput.addEventListener("change", () => {
    if (dateInput.value) calendar.setOption("date", dateInput.value);
  });
  for (const button of document.querySelectorAll("[data-view]")) {
    button.addEventListener("click", () => calendar.setOption("view", viewFor(button.dataset.view)));
  }
  therapistSelect.addEventListener("change", () => {
    const wanted = viewFor(currentView());
    if (calendar.getOption("view") !== wanted) calendar.setOption("view", wanted);
    calendar.refetchResources();
  });
  document.body.addEventListener("calendar-changed", () => calendar.refetchEvents());
  window.frontdeskCalendar = calendar;
  window.frontdeskOpenPanel = openPanel;
})();
