// The words a transcript fence may carry after its language (```text continued). The doc
// check reads them too, so that it never takes a tag for the name of a file.

export const TRANSCRIPT_TAGS = ['continued', 'also-redis', 'any-order'] as const;

/** `no-replay:` takes the rest of the line as its reason. */
export const NO_REPLAY = 'no-replay:';

/** True for a word of a fence's info string that is a transcript tag, not a file name. */
export const isTranscriptTag = (word: string): boolean => (TRANSCRIPT_TAGS as readonly string[]).includes(word) || word.startsWith('no-replay');
