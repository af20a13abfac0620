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

// Quotes ---------------------------------------------------------------------------------------
// A quoted phrase is compared with its paragraph after both are normalised as
// consult.text.normalise_quote does: NFKC, curly quotes straight, dashes hyphens, invisible
// characters gone, runs of whitespace one space, lower case.
const QUOTE_CHARACTERS = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201b': "'",
  '\u2032': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u201f': '"',
  '\u2033': '"',
  '\u00ab': '"',
  '\u00bb': '"',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u00ad': '',
  '\u200b': '',
  '\u200c': '',
  '\u200d': '',
  '\u2060': '',
  '\ufeff': ''
}
const QUOTE_MAX = 300 // consult.comments.services.QUOTE_MAX

function normaliseCharacter (character) {
  return Array.from(character.normalize('NFKC'))
    .map((c) => (c in QUOTE_CHARACTERS ? QUOTE_CHARACTERS[c] : c))
    .join('')
    .toLowerCase()
}

function normaliseQuote (text) {
  return Array.from(text).map(normaliseCharacter).join('').replace(/\s+/g, ' ').trim()
}

// The normalised text of an element's text nodes, and for each of its characters the text
// node and offsets it came from.
function normalisedText (element) {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT)
  let text = ''
  const origins = []
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let offset = 0
    for (const character of Array.from(node.data)) {
      const start = offset
      offset += character.length
      let normalised = normaliseCharacter(character)
      if (/^\s+$/.test(normalised)) {
        if (text === '' || text.endsWith(' ')) continue
        normalised = ' '
      }
      for (const c of normalised) {
        text += c
        origins.push({ node, start, end: offset })
      }
    }
  }
  return { text, origins }
}

// Mark the first occurrence of a quote in a paragraph's text: each text node's share of it
// in its own <mark>, made with the DOM (the quote is never parsed as HTML).
function markQuote (container, quote) {
  const wanted = normaliseQuote(quote)
  if (!wanted) return null
  const { text, origins } = normalisedText(container)
  const at = text.indexOf(wanted)
  if (at < 0) return null
  const first = origins[at]
  const last = origins[at + wanted.length - 1]
  const nodes = []
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT)
  let inside = false
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node === first.node) inside = true
    if (inside) nodes.push(node)
    if (node === last.node) break
  }
  let marked = null
  for (const node of nodes.reverse()) {
    const start = node === first.node ? first.start : 0
    const end = node === last.node ? last.end : node.data.length
    if (end <= start || !node.data.slice(start, end).trim()) continue
    const range = document.createRange()
    range.setStart(node, start)
    range.setEnd(node, end)
    const mark = document.createElement('mark')
    mark.className = 'app-quote-mark'
    range.surroundContents(mark)
    marked = mark
  }
  return marked
}

function clearQuoteMarks () {
  for (const mark of document.querySelectorAll('mark.app-quote-mark')) {
    const parent = mark.parentNode
    mark.replaceWith(...mark.childNodes)
    parent.normalize()
  }
}

// The quoted phrase of the open thread is marked in its paragraph: the thread the page is
// narrowed to (?thread=), the comment the address points at (#comment-N), or the thread
// whose "On paragraph N" link was followed.
function highlightThreadQuote (comment) {
  clearQuoteMarks()
  const thread = comment && comment.closest('.app-comment--level-1')
  const quote = thread && thread.querySelector(':scope > .app-comment__content .app-quote')
  if (!quote) return
  const anchor = quote.dataset.paragraph
  const text = anchor && document.querySelector(`.app-paragraph__text[data-paragraph="${CSS.escape(anchor)}"]`)
  const words = quote.cloneNode(true)
  for (const hidden of words.querySelectorAll('.govuk-visually-hidden')) hidden.remove()
  if (text) markQuote(text, words.textContent)
}

function highlightFromAddress () {
  const target = window.location.hash.match(/^#comment-(\d+)$/)
  const thread = new URLSearchParams(window.location.search).get('thread')
  const id = target ? target[1] : thread
  highlightThreadQuote(id && /^\d+$/.test(id) ? document.getElementById(`comment-${id}`) : null)
}
highlightFromAddress()
window.addEventListener('hashchange', highlightFromAddress)
document.addEventListener('click', (event) => {
  const link = event.target instanceof Element ? event.target.closest('.app-comment a[href^="#p-"]') : null
  if (link) highlightThreadQuote(link.closest('.app-comment'))
})

// Comment from a selection -----------------------------------------------------------------------
// Words selected within one paragraph of the wording, where the reader may comment on it,
// offer "Comment on this" (and "Propose new wording" where amendments may be proposed) just
// after the paragraph's text, so that Tab from the selection reaches them. Escape, or a
// selection elsewhere, puts them away.
const selectionTools = document.createElement('div')
selectionTools.className = 'govuk-button-group app-selection-tools'
selectionTools.setAttribute('role', 'group')
selectionTools.setAttribute('aria-label', 'Selected words')
selectionTools.hidden = true
const commentButton = document.createElement('button')
commentButton.type = 'button'
commentButton.className = 'govuk-button govuk-button--secondary'
commentButton.textContent = 'Comment on this'
const proposeButton = document.createElement('button')
proposeButton.type = 'button'
proposeButton.className = 'govuk-button govuk-button--secondary'
proposeButton.textContent = 'Propose new wording'
selectionTools.append(commentButton, proposeButton)
// Pressing a button must not take the selection away before it is read.
selectionTools.addEventListener('mousedown', (event) => event.preventDefault())

let selected = null // { anchor, quote }
let pendingQuote = null // { anchor, quote } waiting for the paragraph's form to arrive

function hideSelectionTools () {
  selectionTools.hidden = true
  selected = null
}

function selectedWords () {
  const selection = window.getSelection()
  if (!selection || selection.isCollapsed || selection.rangeCount === 0) return null
  const range = selection.getRangeAt(0)
  const start = range.startContainer instanceof Element ? range.startContainer : range.startContainer.parentElement
  const end = range.endContainer instanceof Element ? range.endContainer : range.endContainer.parentElement
  const text = start && start.closest('.app-paragraph__text')
  if (!text || !end || end.closest('.app-paragraph__text') !== text) return null
  const anchor = text.dataset.paragraph
  const paragraph = text.closest('.app-paragraph')
  const commentLink = paragraph && paragraph.querySelector(`a[data-comment-on="${CSS.escape(anchor)}"]`)
  if (!commentLink) return null
  const quote = selection.toString().replace(/\s+/g, ' ').trim().slice(0, QUOTE_MAX).trim()
  if (!quote) return null
  return { anchor, quote, text, paragraph, commentLink }
}

function showSelectionTools () {
  const words = selectedWords()
  if (!words) {
    if (!selectionTools.contains(document.activeElement)) hideSelectionTools()
    return
  }
  selected = words
  proposeButton.hidden = !words.paragraph.querySelector(`a[data-propose="${CSS.escape(words.anchor)}"]`)
  if (selectionTools.previousElementSibling !== words.text) words.text.after(selectionTools)
  selectionTools.hidden = false
}

let selectionTimer = null
document.addEventListener('selectionchange', () => {
  window.clearTimeout(selectionTimer)
  selectionTimer = window.setTimeout(showSelectionTools, 150)
})
document.addEventListener('mouseup', () => {
  window.clearTimeout(selectionTimer)
  selectionTimer = window.setTimeout(showSelectionTools, 0)
})
document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || selectionTools.hidden) return
  const hadFocus = selectionTools.contains(document.activeElement)
  const text = selected && selected.text
  hideSelectionTools()
  if (hadFocus && text) {
    text.setAttribute('tabindex', '-1')
    text.focus()
  }
})

function fillQuote (container, quote) {
  const form = container.querySelector('form')
  const field = form && form.querySelector('input[name="quote"]')
  const body = form && form.querySelector('textarea[name="body"]')
  if (!field || !body) return false
  field.value = quote
  body.focus()
  return true
}

commentButton.addEventListener('click', () => {
  if (!selected) return
  const { anchor, quote, commentLink } = selected
  hideSelectionTools()
  const slot = document.getElementById(`paragraph-form-${anchor}`)
  if (slot && fillQuote(slot, quote)) return // its form is open already: keep what is typed
  pendingQuote = { anchor, quote }
  commentLink.click()
})

document.body.addEventListener('htmx:load', (event) => {
  if (!pendingQuote) return
  const slot = document.getElementById(`paragraph-form-${pendingQuote.anchor}`)
  if (slot && slot.contains(event.target) && fillQuote(slot, pendingQuote.quote)) pendingQuote = null
})

proposeButton.addEventListener('click', () => {
  if (!selected) return
  const link = selected.paragraph.querySelector(`a[data-propose="${CSS.escape(selected.anchor)}"]`)
  if (!link) return
  const url = new URL(link.href, window.location.href)
  url.searchParams.set('quote', selected.quote)
  window.location.assign(url.toString())
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

// The margin beside each paragraph ------------------------------------------------------------
// "Show the threads" fetches the paragraph's threads each time it is opened (so they are
// fresh); without JavaScript it holds a link to the discussion filtered to the paragraph.
document.addEventListener('toggle', (event) => {
  const details = event.target
  if (!(details instanceof HTMLDetailsElement) || !details.open || !('marginThreads' in details.dataset)) return
  const list = details.querySelector('[hx-get]')
  if (list && window.htmx) window.htmx.trigger(list, 'margin-open')
}, true)

// A live update renews each paragraph's count: a margin whose threads are open fetches them
// again, so that what it shows stays true.
document.addEventListener('htmx:load', (event) => {
  const count = event.detail.elt
  if (!(count instanceof Element) || !count.id.startsWith('paragraph-count-')) return
  const margin = count.closest('.app-margin')
  const details = margin && margin.querySelector('details[data-margin-threads]')
  if (!details) return
  if (count.querySelector('a')) details.hidden = false // it has comments now
  const list = details.open && details.querySelector('[hx-get]')
  if (list && window.htmx) window.htmx.trigger(list, 'margin-open')
})

// A thread link in a margin goes to the thread in the page's own discussion when it is there.
document.addEventListener('click', (event) => {
  const link = event.target instanceof Element ? event.target.closest('a[data-thread-link]') : null
  const comment = link && document.getElementById(`comment-${link.dataset.threadLink}`)
  if (!comment) return
  event.preventDefault()
  window.location.hash = `comment-${link.dataset.threadLink}`
  comment.setAttribute('tabindex', '-1')
  comment.focus()
})

// New comments out of sight -------------------------------------------------------------------
// A comment someone else has just posted (marked data-live-new="paragraph 3" by the live
// update) that lands outside the viewport is counted in a visible control where the reader
// is: "1 new comment on paragraph 3 – show". Activating it scrolls to the first such comment
// and moves focus to it. Comments scrolled into view on their own stop being counted. Screen
// readers hear about new comments from the polite live region; focus is never taken.
const unseen = [] // elements of comments not yet seen, oldest first
const newComments = document.createElement('div')
newComments.className = 'app-new-comments'
newComments.hidden = true
const showNew = document.createElement('button')
showNew.type = 'button'
showNew.className = 'govuk-button govuk-!-margin-bottom-0'
showNew.id = 'show-new-comments'
newComments.append(showNew)

const seenWatcher = 'IntersectionObserver' in window
  ? new window.IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) forgetUnseen(entry.target)
    }
  })
  : null

function forgetUnseen (element) {
  const index = unseen.indexOf(element)
  if (index >= 0) unseen.splice(index, 1)
  if (seenWatcher) seenWatcher.unobserve(element)
  renderNewComments()
}

function renderNewComments () {
  for (let i = unseen.length - 1; i >= 0; i--) {
    if (!unseen[i].isConnected) unseen.splice(i, 1)
  }
  if (!unseen.length) {
    newComments.hidden = true
    return
  }
  const places = new Set(unseen.map((element) => element.dataset.liveWhere))
  const count = unseen.length
  const words = `${count} new comment${count === 1 ? '' : 's'}`
  showNew.textContent = `${places.size === 1 ? `${words} on ${[...places][0]}` : words} – show`
  if (!newComments.isConnected) (document.getElementById('main-content') || document.body).append(newComments)
  newComments.hidden = false
}

function outOfSight (element) {
  const box = element.getBoundingClientRect()
  return box.bottom <= 0 || box.top >= window.innerHeight
}

document.addEventListener('htmx:load', (event) => {
  const element = event.detail.elt
  if (!(element instanceof Element)) return
  const fresh = element.matches('[data-live-new]') ? [element] : [...element.querySelectorAll('[data-live-new]')]
  for (const comment of fresh) {
    comment.dataset.liveWhere = comment.dataset.liveNew
    comment.removeAttribute('data-live-new')
    if (!outOfSight(comment)) continue
    unseen.push(comment)
    if (seenWatcher) seenWatcher.observe(comment)
  }
  if (fresh.length) renderNewComments()
})

showNew.addEventListener('click', () => {
  const first = unseen[0]
  unseen.splice(0)
  if (seenWatcher) seenWatcher.disconnect()
  renderNewComments()
  if (!first || !first.isConnected) return
  first.setAttribute('tabindex', '-1')
  first.scrollIntoView({ block: 'center' })
  first.focus({ preventScroll: true })
})
