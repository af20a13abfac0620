// Consult front-end entry point. Load with:
//   <script type="module" src="/static/js/consult.js"></script>
// GOV.UK Frontend 6's template sets these body classes from an inline script;
// our CSP forbids inline script, so set them here, before initAll() (its
// components check for `govuk-frontend-supported` and refuse to start without it).
// htmx is configured via <meta name="htmx-config">, not here.
import { initAll } from '/static/vendor/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
