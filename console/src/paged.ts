// One way a console table pages and filters: the filter and the page live in the URL's
// query (a link, a reload or 返回 shows the same rows), a page is fetched with the total
// the server counted, and a refusal is shown in the user's language. Views give the
// filter's empty values and how to fetch a page; <ListPager> draws the footer.
import { computed, reactive, ref, type UnwrapRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRoute, useRouter } from 'vue-router'
import { errorMessage } from './api/client'

export interface Page<Row> {
  items: Row[]
  total: number
}

/** The query a page is fetched with: the filter's non-empty values, `page` and `per_page`. */
export type PageQuery<F> = { [K in keyof F]?: string } & { page: number; per_page: number }

/** What the fetch of a page answers: openapi-fetch's `{ data, error }`. */
export interface Fetched<Row> {
  data?: Page<Row>
  error?: unknown
}

export function usePagedList<Row, F extends Record<string, string>>(
  empty: F,
  fetchPage: (query: PageQuery<F>) => Promise<Fetched<Row>>,
  perPageDefault = 20,
) {
  const route = useRoute()
  const router = useRouter()
  const { locale } = useI18n()
  const initial = { ...empty }
  for (const key of Object.keys(empty) as (keyof F)[]) {
    const given = route.query[key as string]
    if (typeof given === 'string') initial[key] = given as F[keyof F]
  }
  const filter = reactive(initial)
  const page = ref(Number(route.query.page) || 1)
  const perPage = ref(perPageDefault)
  const rows = ref<Row[]>([])
  const total = ref(0)
  const loading = ref(false)
  const failure = ref('')
  // Answers can arrive out of order (a slow search, then a quick filter): only the latest
  // request's answer is shown, or the table would show one filter's rows under another.
  let latest = 0

  async function load() {
    const request = ++latest
    loading.value = true
    failure.value = ''
    const query = { page: page.value, per_page: perPage.value } as PageQuery<F>
    for (const [key, value] of Object.entries(filter as Record<string, string>)) {
      const trimmed = value.trim()
      if (trimmed) (query as Record<string, unknown>)[key] = trimmed
    }
    // The page size is the user's choice of the moment, not part of the link.
    const { per_page: _size, ...shown } = query as Record<string, unknown>
    router.replace({ query: shown as Record<string, string> })
    const { data, error } = await fetchPage(query)
    if (request !== latest) return
    loading.value = false
    if (error || !data) {
      failure.value = errorMessage(error, locale.value)
      return
    }
    rows.value = data.items as UnwrapRef<Row[]>
    total.value = data.total
  }

  /** A new filter: back to the first page. */
  function search() {
    page.value = 1
    return load()
  }

  function reset() {
    Object.assign(filter, empty)
    return search()
  }

  return { filter, page, perPage, rows, total, loading, failure, load, search, reset }
}

// A short or narrow window (a phone, a PC at 200% zoom) leaves a fixed-height table only
// a few rows: there the page scrolls instead of the table.
const cramped = window.matchMedia('(max-width: 768px), (max-height: 600px)')
const isCramped = ref(cramped.matches)
cramped.addEventListener('change', (e) => (isCramped.value = e.matches))

/** A table's `max-height`: the window less `offset` px of page above and below it, or
 * none in a cramped window. */
export function tableMaxHeight(offset: number) {
  return computed(() => (isCramped.value ? undefined : `calc(100vh - ${offset}px)`))
}
