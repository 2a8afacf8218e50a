// The shapes of the household page's reads that the OpenAPI document leaves untyped:
// the rules' assessment is built as JSON by `assess::assess` (a rule that could not be
// applied carries `{"error": …}` in its place).

export interface NetIncome {
  gross_fen: number
  business_expense_fen: number
  excluded_pension_fen: number
  medical_expense_fen: number
  education_expense_fen: number
  net_fen: number
  per_capita_fen: number
  resident_members: number
}
export type Failed = { error?: string }
export interface Tagged {
  type: string
  value?: unknown
}
export interface AssessmentBody {
  year: number
  threshold?: { yuan: number; standard: string } | null
  net_income: (NetIncome & Failed) | null
  identification?: Failed & { eligible?: string; threshold_fen?: number; criteria?: { criterion: string; answer: string }[] }
  exit?: Failed & { threshold_fen?: number; obstacles?: Tagged[] }
  edge?: Failed & { within_ceiling?: boolean; above_threshold?: boolean; risks?: string[]; threshold_fen?: number; ceiling_percent?: number; list?: string | null }
  main_measure?: Failed & { category?: string | null; undetermined?: string[] }
  removal_findings?: { reason: string; verdict: Tagged }[]
  review_flags?: string[]
}
