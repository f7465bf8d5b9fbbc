/*
 * What the front desk calendar and a therapist's week share: reading EventCalendar's dates as the clinic's
 * wall clock, and drawing an appointment (time, patient, service and length, its marks) safely as DOM nodes.
 *
 * The feeds send the clinic's wall-clock times without an offset and EventCalendar shows them as they are;
 * the dates it hands back hold those wall-clock values in their local fields, so they are read with local getters.
 */
window.ClinicCalendar = (function () {
  "use strict";

  const pad = (number) => String(number).padStart(2, "0");
  const ymd = (date) => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const wallClock = (date) => `${ymd(date)}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  /** A URL reversed with the id 0, given another id: "/frontdesk/appointments/0/move/" → ".../42/move/". */
  const withId = (template, id) => template.replace("/0/", `/${id}/`);

  function node(tag, css, text) {
    const element = document.createElement(tag);
    element.className = css;
    element.textContent = text;
    return element;
  }

  /** EventCalendar's eventContent: an appointment's lines, or a background's label (time off shows its reason). */
  function eventNodes(info, { showTherapist = false } = {}) {
    const props = info.event.extendedProps;
    if (props.kind !== "appointment") {
      return { domNodes: [node("span", "background-label", props.kind === "time-off" ? info.event.title : "")] };
    }
    let service = `${props.service} · ${props.minutes} min`;
    if (showTherapist && props.therapist) service += ` · ${props.therapist}`;
    const marks = node("div", "appt-marks", "");
    const addMark = (text, css) => marks.append(node("span", `appt-mark ${css}`, text));
    if (props.status !== "booked") addMark(props.statusLabel, "mark-status");
    if (props.firstVisit) addMark("First visit", "mark-first");
    if (props.hasNote) addMark("Note", "mark-note");
    return {
      domNodes: [
        node("div", "appt-time", info.timeText),
        node("div", "appt-patient", props.patient),
        node("div", "appt-service", service),
        marks,
      ],
    };
  }

  /** EventCalendar's eventDidMount: the whole appointment as a tooltip, for short sessions whose lines are cut. */
  function describe(info) {
    const props = info.event.extendedProps;
    if (props.kind !== "appointment") return;
    const parts = [info.timeText, props.patient, `${props.service}, ${props.minutes} min`];
    if (props.therapist) parts.push(props.therapist);
    parts.push(props.statusLabel);
    if (props.firstVisit) parts.push("first visit");
    if (props.hasNote) parts.push("note from the patient");
    info.el.title = parts.join(" · ");
  }

  /** The JSON at `url`; an error answer becomes an Error whose message is `failedMessage(status)`. */
  async function getJSON(url, signal, failedMessage) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal });
    if (!response.ok) throw new Error(failedMessage(response.status));
    return response.json();
  }

  /**
   * Only the newest load of a kind may fill the calendar: EventCalendar takes whatever a source hands it
   * last, so a slow answer for the day or week just left must not replace the one gone to. Returns
   * `load(url, success, failure, use)`; a failure that was not overtaken is told with `onError(message)`.
   */
  function latestOnly(failedMessage, onError) {
    let current = null;
    return (url, success, failure, use = (data) => data) => {
      current?.abort();
      const request = (current = new AbortController());
      getJSON(url, request.signal, failedMessage)
        .then((data) => success(use(data)))
        .catch((error) => {
          if (!request.signal.aborted) onError(error.message);
          failure(error);
        });
    };
  }

  return { pad, ymd, wallClock, withId, eventNodes, describe, latestOnly };
})();
