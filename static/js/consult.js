// Consult front-end entry point. Load with:
//   <script type="module" src="/static/js/consult.js"></script>
// GOV.UK Frontend 6's template sets these body classes from an inline script;
// our CSP forbids inline script, so set them here, before initAll() (its
// components check for `govuk-frontend-supported` and refuse to start without it).
// htmx is configured via <meta name="htmx-config">, not here.
import { initAll } from '/static/vendor/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()

// At most one autofocus in the page. htmx focuses a swapped-in element's [autofocus] just
// before it fires htmx:load on it; the attribute has then done its job, so drop it from
// every element outside the newest content (forms opened earlier keep their place, not it).
function dropSpentAutofocus (event) {
  for (const element of document.querySelectorAll('[autofocus]')) {
    if (!event.target.contains(element)) element.removeAttribute('autofocus')
  }
}
document.body.addEventListener('htmx:load', dropSpentAutofocus)
