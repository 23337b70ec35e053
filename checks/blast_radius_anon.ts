import { blastRadiusCheck } from './_blast_radius.ts';

export default blastRadiusCheck(
  'blast_radius_anon',
  'anon',
  'What the public anon key can do',
  'Scores what anyone holding the anon key (shipped in every client) can read, write and call, and names each path that grants it.',
  'high',
);
