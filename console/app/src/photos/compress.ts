// A camera photo made small enough to keep on the phone for days and to upload over one
// bar of signal (plan §4): turned upright by its EXIF orientation, the long edge at most
// 1600 px, re-encoded as a JPEG at quality 0.72 (typically 150–350 KB from a 12 MP
// camera). Done on the main thread: the officer waits on the form meanwhile, not a list.
//
// What it must never do: keep the original (it can be ten times larger and carries the
// camera's location in its EXIF), or hand back something the server would refuse for its
// size — that is refused here, before anything is stored.

/** The long edge of a stored photo, in pixels. */
const LONG_EDGE = 1600
const QUALITY = 0.72
/**
 * The server's default `sync.attachment_max_bytes` (10 MiB). A county that lowers it still
 * gets a 413 at upload, shown on the photo; this only spares storing what cannot go.
 */
export const MAX_BYTES = 10 * 1024 * 1024

export class PhotoRefusal extends Error {}

/** The photo as it will be stored and uploaded: an upright JPEG. */
export async function compressPhoto(file: Blob): Promise<Blob> {
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' })
  } catch {
    throw new PhotoRefusal('无法读取这张照片，请重新拍摄')
  }
  try {
    const scale = Math.min(1, LONG_EDGE / Math.max(bitmap.width, bitmap.height))
    const width = Math.max(1, Math.round(bitmap.width * scale))
    const height = Math.max(1, Math.round(bitmap.height * scale))
    const canvas = document.createElement('canvas')
    canvas.width = width
    canvas.height = height
    const context = canvas.getContext('2d')
    if (!context) throw new PhotoRefusal('手机无法处理照片')
    // JPEG has no transparency: a screenshot's clear pixels would turn black.
    context.fillStyle = '#fff'
    context.fillRect(0, 0, width, height)
    context.drawImage(bitmap, 0, 0, width, height)
    const jpeg = await new Promise<Blob | null>((done) => canvas.toBlob(done, 'image/jpeg', QUALITY))
    if (!jpeg) throw new PhotoRefusal('手机无法处理照片')
    if (jpeg.size > MAX_BYTES) throw new PhotoRefusal('照片过大，请重新拍摄')
    return jpeg
  } finally {
    bitmap.close()
  }
}
