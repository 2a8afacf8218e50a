// A form's camera photos (a visit's, a task's evidence): each chosen file compressed as
// soon as it is chosen, so saving waits on little, then turned into 'waiting' rows with
// ids the phone makes, stored in the SAME IndexedDB transaction as the change that names
// them — never a change naming photos that were not kept, nor photos kept without it.
// photos/upload.ts sends them after that change set.
import { ref } from 'vue'
import type { UploaderFileListItem } from 'vant'
import { db, type Change, type PhotoRow } from '../store/db'
import { enqueue } from '../sync/outbox'
import { compressPhoto } from './compress'

export function usePhotoPicker() {
  const photos = ref<UploaderFileListItem[]>([])
  const compressed = new WeakMap<File, Promise<Blob>>()

  /** van-uploader's after-read: start compressing, and show the state on the preview. */
  function prepare(chosen: UploaderFileListItem | UploaderFileListItem[]) {
    for (const item of Array.isArray(chosen) ? chosen : [chosen]) {
      const file = item.file
      if (!file) continue
      item.status = 'uploading'
      item.message = '处理中'
      const work = compressPhoto(file)
      compressed.set(file, work)
      work.then(
        () => {
          item.status = 'done'
          item.message = ''
        },
        (err: unknown) => {
          item.status = 'failed'
          item.message = err instanceof Error ? err.message : '无法处理照片'
        },
      )
    }
  }

  /** van-uploader's before-delete. */
  function forget(item: UploaderFileListItem) {
    if (item.file) compressed.delete(item.file)
    return true
  }

  /** The chosen photos as rows of `household`; throws a message the form shows when one cannot be processed. */
  async function rows(household: string): Promise<PhotoRow[]> {
    const files = photos.value.map((p) => p.file).filter((f): f is File => !!f)
    let blobs: Blob[]
    try {
      blobs = await Promise.all(files.map((f) => compressed.get(f) ?? compressPhoto(f)))
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : '无法处理照片'}，请删除该照片后再保存`)
    }
    const createdAt = new Date().toISOString()
    return blobs.map((blob) => ({
      id: crypto.randomUUID(),
      household_id: household,
      blob,
      size: blob.size,
      created_at: createdAt,
      state: 'waiting',
    }))
  }

  return { photos, prepare, forget, rows }
}

/** Stores `rows` and queues `changes` (which name them) in one IndexedDB transaction. */
export async function enqueueWithPhotos(rows: PhotoRow[], changes: Change[], summary: string) {
  // The blobs are ready before the transaction opens: an await on anything but
  // IndexedDB inside it would end it early.
  await db.transaction('rw', [db.outbox, db.records, db.meta, db.photos], async () => {
    await db.photos.bulkPut(rows)
    await enqueue(changes, summary)
  })
}
