"""The pages' two languages: which one a request gets, and every fixed text in both."""

from __future__ import annotations

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"


def negotiate(chosen: str | None, accept_language: str | None) -> str:
    """The language switched to (cookie) first, else the browser's most preferred one we have, else German."""
    if chosen in LANGUAGES:
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return sorted(ranked)[0][2] if ranked else DEFAULT_LANGUAGE


TEXTS: dict[str, dict[str, str]] = {
    "title": {"de": "Verbund-Konsole", "en": "Verbund console"},
    "sign_in": {"de": "Anmelden", "en": "Sign in"},
    "sign_out": {"de": "Abmelden", "en": "Sign out"},
    "email": {"de": "E-Mail", "en": "Email"},
    "password": {"de": "Passwort", "en": "Password"},
    "signin_failed": {
        "de": "E-Mail oder Passwort ist falsch.",
        "en": "The email or the password is wrong.",
    },
    "signin_limited": {
        "de": "Zu viele Fehlversuche. Bitte warten Sie {minutes} Minuten und versuchen Sie es dann erneut.",
        "en": "Too many failed attempts. Please wait {minutes} minutes, then try again.",
    },
    "networks": {"de": "Verbünde", "en": "Networks"},
    "no_networks": {
        "de": "Ihnen ist noch kein Verbund freigegeben.",
        "en": "No network has been granted to you yet.",
    },
    "overview": {"de": "Übersicht", "en": "Overview"},
    "problems": {"de": "Probleme", "en": "Problems"},
    "timeline": {"de": "Zeitplan", "en": "Timeline"},
    "learners": {"de": "Lernende", "en": "Learners"},
    "placed": {"de": "vollständig eingeplant", "en": "placed"},
    "partial": {"de": "teilweise eingeplant", "en": "partially placed"},
    "unplaced": {"de": "nicht eingeplant", "en": "unplaced"},
    "seats": {"de": "Plätze (Lernende × Wochen)", "en": "Seats (learner weeks)"},
    "offered": {"de": "angeboten", "en": "offered"},
    "used": {"de": "belegt", "en": "used"},
    "open_shortfalls": {"de": "offene Fehlbedarfe", "en": "open shortfalls"},
    "open_deficits": {
        "de": "unter Mindestbelegung (Betrieb × Modul)",
        "en": "below minimum (firm × module)",
    },
    "plan": {"de": "Plan", "en": "Plan"},
    "plan_version": {"de": "Version", "en": "version"},
    "no_plan": {"de": "Noch kein Plan veröffentlicht.", "en": "No plan published yet."},
    "complete": {"de": "vollständig", "en": "complete"},
    "incomplete": {"de": "unvollständig", "en": "incomplete"},
    "rejected_24h": {"de": "abgewiesene Ereignisse (24 h)", "en": "rejected events (24 h)"},
    "shortfall": {"de": "Fehlbedarf", "en": "Shortfall"},
    "deficit": {"de": "Unter Mindestbelegung", "en": "Below minimum"},
    "resolved": {"de": "behoben", "en": "resolved"},
    "open": {"de": "offen", "en": "open"},
    "detected": {"de": "erkannt", "en": "detected"},
    "would_resolve": {"de": "Würde es lösen", "en": "Would resolve it"},
    "no_problems": {"de": "Keine Probleme.", "en": "No problems."},
    "learner": {"de": "Lernende(r)", "en": "Learner"},
    "firm": {"de": "Betrieb", "en": "Firm"},
    "module": {"de": "Modul", "en": "Module"},
    "weeks": {"de": "Wochen", "en": "weeks"},
    "seat_word": {"de": "Plätze", "en": "seats"},
    "any_firm": {"de": "ein beliebiger Betrieb", "en": "any firm"},
    "no_learners": {"de": "Noch keine Lernenden.", "en": "No learners yet."},
    "previous": {"de": "zurück", "en": "previous"},
    "next": {"de": "weiter", "en": "next"},
    "page": {"de": "Seite", "en": "page"},
    "live": {"de": "live", "en": "live"},
    "offline": {"de": "getrennt – verbinde neu …", "en": "disconnected – reconnecting …"},
    "forbidden": {
        "de": "Dieser Verbund ist für Ihr Konto nicht freigegeben.",
        "en": "This network is not granted to your account.",
    },
    "not_found": {"de": "Nicht gefunden.", "en": "Not found."},
    "bad_form": {
        "de": "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu und senden Sie es erneut.",
        "en": "The form has expired. Please reload the page and send it again.",
    },
    "language": {"de": "English", "en": "Deutsch"},
    "timeline_learners": {"de": "Zeitplan je Person", "en": "Timeline per learner"},
    "timeline_firms": {"de": "Zeitplan je Betrieb", "en": "Timeline per firm"},
    "by_learner": {"de": "je Person", "en": "per learner"},
    "by_firm": {"de": "je Betrieb", "en": "per firm"},
    "utilisation": {"de": "Auslastung", "en": "Utilisation"},
    "history": {"de": "Planhistorie", "en": "Plan history"},
    "rejected": {"de": "Abgewiesen", "en": "Rejected"},
    "rejected_title": {"de": "Abgewiesene Ereignisse", "en": "Rejected events"},
    "people": {"de": "Konten", "en": "People"},
    "people_title": {"de": "Konten der Betriebe und Lernenden", "en": "Firm users and learner accounts"},
    "people_intro": {
        "de": "Wer für einen Betrieb dieses Verbunds handelt oder als lernende Person den eigenen Plan sieht. "
        "Koordinationskonten legt der Betrieb der Plattform an (verbund console add-user).",
        "en": "Who acts for a firm of this network, or sees their own plan as a learner. Coordinators are added "
        "by the operators (verbund console add-user).",
    },
    "no_people": {"de": "Noch keine Konten.", "en": "No accounts yet."},
    "role": {"de": "Rolle", "en": "Role"},
    "role_firm": {"de": "Betrieb", "en": "firm user"},
    "role_learner": {"de": "Lernende(r)", "en": "learner"},
    "acts_for": {"de": "für", "en": "for"},
    "remove": {"de": "Entfernen", "en": "Remove"},
    "add_firm_user": {"de": "Konto für einen Betrieb anlegen", "en": "Add a firm user"},
    "add_learner_account": {"de": "Konto für eine lernende Person anlegen", "en": "Add a learner account"},
    "learner_id": {"de": "Kennung der lernenden Person", "en": "Learner id"},
    "add": {"de": "Anlegen", "en": "Add"},
    "no_firms_yet": {"de": "Der Verbund hat noch keine Betriebe.", "en": "The network has no firms yet."},
    "person_added": {
        "de": "Konto {email} angelegt. Das erste Passwort wird nur dieses eine Mal gezeigt; geben Sie es sicher "
        "weiter:",
        "en": "Account {email} added. Its first password is shown this once only; hand it over safely:",
    },
    "person_removed": {"de": "{email} ist hier entfernt.", "en": "{email} is removed here."},
    "person_not_there": {
        "de": "{email} war hier nicht (mehr) eingetragen; nichts geändert.",
        "en": "{email} was not (or no longer) on this network; nothing changed.",
    },
    "email_taken": {
        "de": "Für {email} gibt es schon ein Konto; es bleibt, wie es ist. Ein bestehendes Konto erweitert der "
        "Betrieb der Plattform (verbund console add-user … --firm/--learner).",
        "en": "There already is an account for {email}; it is left as it is. The operators can add a firm or "
        "learner to an existing account (verbund console add-user … --firm/--learner).",
    },
    "email_invalid": {
        "de": "Bitte eine E-Mail-Adresse angeben (name@beispiel.de).",
        "en": "Please give an email address (name@example.org).",
    },
    "unknown_firm": {
        "de": "Diesen Betrieb gibt es in diesem Verbund nicht (oder er ist ausgeschieden).",
        "en": "There is no such firm in this network (or it has left).",
    },
    "unknown_learner": {
        "de": "In diesem Verbund ist keine lernende Person „{learner}“ angemeldet.",
        "en": "No learner “{learner}” is registered in this network.",
    },
    "zoom": {"de": "Zoom", "en": "Zoom"},
    "zoom_week": {"de": "Woche", "en": "week"},
    "zoom_month": {"de": "Monat", "en": "month"},
    "zoom_year": {"de": "Jahr", "en": "year"},
    "all": {"de": "alle", "en": "all"},
    "cohort": {"de": "Jahrgang", "en": "Cohort"},
    "status": {"de": "Stand", "en": "Status"},
    "search_learner": {"de": "Person suchen", "en": "Search learner"},
    "apply": {"de": "Anwenden", "en": "Apply"},
    "reset": {"de": "Zurücksetzen", "en": "Reset"},
    "no_rows": {"de": "Nichts passt zu diesem Filter.", "en": "Nothing matches this filter."},
    "rows_found": {"de": "Treffer", "en": "matches"},
    "csv": {"de": "CSV herunterladen", "en": "Download CSV"},
    "ics": {"de": "Kalender (.ics)", "en": "Calendar (.ics)"},
    "data_link": {"de": "Daten", "en": "Data"},
    "data_link_title": {"de": "Auskunft und Löschung der Daten", "en": "Export or erase the learner's data"},
    "contact_link": {"de": "Kontakt", "en": "Contact"},
    "contact_link_title": {"de": "Ausbildungskontakt des Betriebs löschen", "en": "Erase the firm's training contact"},
    "planned": {"de": "eingeplant", "en": "planned"},
    "minimum": {"de": "Mindestbelegung", "en": "minimum"},
    "maximum": {"de": "Höchstbelegung", "en": "maximum"},
    "week": {"de": "Woche", "en": "Week"},
    "legend": {"de": "Legende", "en": "Legend"},
    "state_none": {"de": "kein Angebot", "en": "no offer"},
    "state_free": {"de": "frei", "en": "free"},
    "state_ok": {"de": "belegt", "en": "in use"},
    "state_under": {"de": "unter Mindestbelegung", "en": "below minimum"},
    "state_full": {"de": "voll", "en": "full"},
    "state_over": {"de": "überbelegt oder ohne Angebot", "en": "over capacity or without an offer"},
    "who_is_there": {"de": "Wer ist dort", "en": "Who is there"},
    "nobody_there": {"de": "In dieser Woche ist niemand eingeplant.", "en": "Nobody is planned there this week."},
    "back_to_utilisation": {"de": "zurück zur Auslastung", "en": "back to utilisation"},
    "no_offers": {"de": "Noch keine Angebote und keine Einsätze.", "en": "No offers and no assignments yet."},
    "kind_made": {"de": "neu eingeplant", "en": "made"},
    "kind_changed": {"de": "verschoben", "en": "moved"},
    "kind_cancelled": {"de": "gestrichen", "en": "cancelled"},
    "published": {"de": "veröffentlicht", "en": "published"},
    "not_published": {"de": "noch nicht veröffentlicht", "en": "not published yet"},
    "before": {"de": "vorher", "en": "before"},
    "after": {"de": "jetzt", "en": "now"},
    "why": {"de": "Grund", "en": "Why"},
    "more_lines": {"de": "weitere Zeilen in der CSV-Datei", "en": "more lines in the CSV file"},
    "no_history": {"de": "Noch keine Planversion.", "en": "No plan version yet."},
    "solver": {"de": "Verfahren", "en": "solver"},
    "no_rejected": {"de": "Keine abgewiesenen Ereignisse.", "en": "No rejected events."},
    "reason": {"de": "Grund", "en": "Reason"},
    "where": {"de": "Thema/Partition/Offset", "en": "Topic/partition/offset"},
    "size": {"de": "Größe (Bytes)", "en": "Size (bytes)"},
    "sha256": {"de": "SHA-256", "en": "SHA-256"},
    "payload": {"de": "Originalinhalt", "en": "Original payload"},
    "payload_base64": {
        "de": "Originalinhalt (kein UTF-8, daher Base64)",
        "en": "Original payload (not UTF-8, so base64)",
    },
    "truncated": {"de": "gekürzt auf die ersten Bytes", "en": "truncated to its first bytes"},
    "received": {"de": "empfangen", "en": "received"},
    "errors": {"de": "Fehler", "en": "Errors"},
    "event_type": {"de": "Ereignistyp", "en": "Event type"},
}


def texts(language: str) -> dict[str, str]:
    """Every fixed text in one language, for a template."""
    return {key: both[language] for key, both in TEXTS.items()}
