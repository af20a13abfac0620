// Consult front-end entry point. Load with:
//   <script type="module" src="/static/js/consult.js"></script>
// GOV.UK Frontend 6's template sets these body classes from an inline script;
// our CSP forbids inline script, so set them here, before initAll() (its
// components check for `govuk-frontend-supported` and refuse to start without it).
// htmx is configured via <meta name="htmx-config">, not here.
import { initAll } from '/static/vendor/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')

// Start the GOV.UK Frontend components inside `scope`. A component already started says so
// with an InitError (it marks its element data-<module>-init): that one is left alone.
function initialiseComponents (scope) {
  initAll({
    scope,
    onError (error) {
      if (error.name !== 'InitError') console.log(error)
    }
  })
}

initialiseComponents(document)

// htmx fires htmx:load on every element it puts in the page (swaps, out-of-band swaps):
// start the components in it. Its parent is the scope, as the element may be the component.
document.addEventListener('htmx:load', (event) => {
  const element = event.detail.elt
  if (element instanceof Element) initialiseComponents(element.parentElement || element)
})

// The live-update stream sends `event: reload` when the events this page missed are no
// longer kept: start again from a fresh page rather than show an incomplete one.
function reload () {
  window.location.reload()
}
document.addEventListener('htmx:sseOpen', (event) => {
  event.detail.source.addEventListener('reload', reload) // once per stream: same listener
})

// At most one autofocus in the page. htmx focuses a swapped-in element's [autofocus] just
// before it fires htmx:load on it; the attribute has then done its job, so drop it from
// every element outside the newest content (forms opened earlier keep their place, not it).
function dropSpentAutofocus (event) {
  for (const element of document.querySelectorAll('[autofocus]')) {
    if (!event.target.contains(element)) element.removeAttribute('autofocus')
  }
}
document.body.addEventListener('htmx:load', dropSpentAutofocus)

// A download of the agreed text is made when it is asked for and can take a few seconds:
// say so where the link is, rather than leave a page that seems to hang. The browser shows
// the file itself when it arrives; the message goes once the page is left or after a while.
document.addEventListener('click', (event) => {
  const link = event.target instanceof Element ? event.target.closest('a[data-download]') : null
  const status = document.getElementById('download-status')
  if (!link || !status) return
  status.textContent = `Preparing “${link.textContent.trim()}”. This can take a few seconds.`
  window.setTimeout(() => { status.textContent = '' }, 15000)
})
