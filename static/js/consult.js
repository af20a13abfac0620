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

// Nothing typed is lost. In forms marked data-keep-draft, what is typed in a text field is
// kept in this tab's session storage (per form and field) until it is posted: a reload, an
// accidental navigation or a sign-in in between brings it back. A field is restored only
// while it still holds what the page gave it. htmx forms forget the draft when the server
// accepts the post; plain forms when the page they lead to says it was done.
const DRAFT = 'consult-draft:'
const PENDING = 'consult-draft-pending'
const DRAFT_FIELDS = 'textarea, input[type="text"]'

function draftKey (form, field) {
  return `${DRAFT}${form.getAttribute('action') || ''}#${form.id}#${field.name}`
}

function storage () {
  try { return window.sessionStorage } catch { return null } // blocked by the browser
}

function draftKeys (form) {
  return [...form.querySelectorAll(DRAFT_FIELDS)].filter((field) => field.name).map((field) => draftKey(form, field))
}

function forgetDraft (form) {
  const store = storage()
  if (store) for (const key of draftKeys(form)) store.removeItem(key)
}

function restoreDrafts (scope) {
  const store = storage()
  if (!store) return
  const forms = scope.matches?.('form[data-keep-draft]') ? [scope] : scope.querySelectorAll('form[data-keep-draft]')
  for (const form of forms) {
    for (const field of form.querySelectorAll(DRAFT_FIELDS)) {
      const kept = field.name ? store.getItem(draftKey(form, field)) : null
      if (kept !== null && field.value === field.defaultValue && field.value !== kept) {
        field.value = kept
      }
    }
  }
}

let saveTimer = null
document.addEventListener('input', (event) => {
  const field = event.target
  const form = field instanceof Element ? field.closest('form[data-keep-draft]') : null
  if (!form || !field.matches(DRAFT_FIELDS) || !field.name) return
  window.clearTimeout(saveTimer)
  saveTimer = window.setTimeout(() => {
    const store = storage()
    if (!store) return
    try {
      if (field.value) store.setItem(draftKey(form, field), field.value)
      else store.removeItem(draftKey(form, field))
    } catch { /* storage full: the text is still in the field */ }
  }, 300)
})

// A plain form remembers which drafts it posted; the next page decides their fate.
document.addEventListener('submit', (event) => {
  const form = event.target
  if (!(form instanceof HTMLFormElement) || !form.matches('form[data-keep-draft]') || form.hasAttribute('hx-post')) return
  window.clearTimeout(saveTimer)
  const store = storage()
  if (!store) return
  for (const field of form.querySelectorAll(DRAFT_FIELDS)) {
    if (field.name && field.value) store.setItem(draftKey(form, field), field.value)
  }
  store.setItem(PENDING, JSON.stringify(draftKeys(form)))
})

function settlePendingDrafts () {
  const store = storage()
  const pending = store && JSON.parse(store.getItem(PENDING) || 'null')
  if (!pending) return
  if (document.querySelector('.govuk-notification-banner--success')) { // it was done
    for (const key of pending) store.removeItem(key)
    store.removeItem(PENDING)
  } else if (document.querySelector('form[data-keep-draft]')) { // the form again: keep typing
    store.removeItem(PENDING)
  } // otherwise (the sign-in page): still pending
}

settlePendingDrafts()
restoreDrafts(document)
document.addEventListener('htmx:load', (event) => {
  if (event.detail.elt instanceof Element) restoreDrafts(event.detail.elt)
})

// An htmx form's post accepted (2xx, 3xx): forget its draft before its answer replaces it.
document.addEventListener('htmx:beforeSwap', (event) => {
  const form = event.detail.requestConfig?.elt
  const status = event.detail.xhr.status
  if (form instanceof Element && form.matches('form[data-keep-draft]') && status >= 200 && status < 400) {
    window.clearTimeout(saveTimer)
    forgetDraft(form)
  }
})

// The session ended (or the page's form token no longer matches it): the server answers
// 401 with a message beside the form, which keeps its text. Once the person has signed in
// again (in another tab), the page's token is stale: before the next htmx request, fetch a
// fresh one and put it where the page keeps it (<body hx-headers> and the forms' fields).
let tokenStale = false
document.addEventListener('htmx:afterRequest', (event) => {
  if (event.detail.xhr?.getResponseHeader('X-Consult') === 'session-ended') tokenStale = true
})

async function refreshToken () {
  const response = await window.fetch('/csrf-token', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
  if (!response.ok) throw new Error(`csrf-token: ${response.status}`)
  const { csrfToken } = await response.json()
  const headers = JSON.parse(document.body.getAttribute('hx-headers') || '{}')
  headers['X-CSRFToken'] = csrfToken
  document.body.setAttribute('hx-headers', JSON.stringify(headers))
  for (const input of document.querySelectorAll('input[name="csrf_token"]')) input.value = csrfToken
  tokenStale = false
}

document.addEventListener('htmx:confirm', (event) => {
  if (!tokenStale) return
  event.preventDefault()
  refreshToken().then(
    () => event.detail.issueRequest(true),
    () => event.detail.issueRequest(true) // the server will say what is wrong
  )
})
