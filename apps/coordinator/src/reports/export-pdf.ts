import { fmtDelta, fmtEpsilon } from './html';
import { type PdfLine, textPdf } from './pdf';
import type { ReportDocument } from './reports.service';

/** The export as a printable PDF: the same ReportDocument as the JSON, laid out as text. */
export function reportPdf(doc: ReportDocument): Buffer {
  const title =
    doc.report === 'overview'
      ? 'Concord privacy report: all institutions'
      : `Concord privacy report: ${doc.institutions[0]?.institutionName ?? ''}`;
  const lines: PdfLine[] = [
    { text: title, size: 16, bold: true },
    { text: `Schema ${doc.schema}; ledger state as of ${doc.asOf ?? 'no entries'}` },
    { text: `Ledger key (Ed25519) fingerprint ${doc.coordinator.ledgerKeyFingerprint}` },
    {
      text: `Ledger verification: ${doc.ledgerVerification.verified ? 'INTACT' : 'NOT INTACT'} (${doc.ledgerVerification.institutions} institutions, ${doc.ledgerVerification.entries} entries, ${doc.ledgerVerification.problems} problems)`,
      bold: true,
    },
    {
      text: `Accountant ${doc.accountant.name} (${doc.accountant.implementation} ${doc.accountant.version}, DP event schema ${doc.accountant.dpEventSchemaVersion}); conversion ${doc.conversion.name}: ${doc.conversion.reference}`,
    },
    { text: '' },
  ];
  for (const i of doc.institutions) {
    lines.push({ text: i.institutionName, size: 13, bold: true });
    lines.push({ text: `Institution ${i.institutionId}, budget ${i.status}; mechanisms: ${i.mechanisms.join(', ') || 'none yet'}` });
    lines.push({
      text: `ε spent ${fmtEpsilon(i.epsilon)} of cap ${fmtEpsilon(i.epsilonCap)} (remaining ${fmtEpsilon(i.epsilonRemaining)}) at δ = ${fmtDelta(i.delta)}, data-independent guarantee; ${i.ledgerEntries} ledger entries from ${i.period.from ?? '-'} to ${i.period.to ?? '-'}`,
    });
    lines.push({ text: `Privacy unit: ${i.privacyUnitDescription}.` });
    if (i.groupPrivacy) {
      const g = i.groupPrivacy;
      lines.push({
        text: `Institution as a whole (group privacy over its ${g.teachers} teachers): (ε, δ) = (${fmtEpsilon(g.epsilon)}, ${g.delta === null ? 'overflow' : fmtDelta(g.delta)}) - weak${g.meaningful ? '' : '; with δ >= 1 it promises nothing'}.`,
      });
    } else {
      lines.push({ text: 'Institution as a whole: not computed (no number of teachers declared); much weaker than per record.' });
    }
    for (const d of i.dataDependent) {
      lines.push({
        text: `Data-dependent ε (sanitised) of job ${d.jobId}: ${fmtEpsilon(d.epsilonSanitized)} at δ = ${fmtDelta(d.delta)} (not what the budget is charged)`,
      });
    }
    lines.push({ text: '' });
  }
  if (doc.jobs?.length) {
    lines.push({ text: 'Jobs', size: 13, bold: true });
    for (const j of doc.jobs) {
      lines.push({
        text: `${j.jobId} ${j.mechanism} ${j.status}: ${j.queriesAsked} queries asked, ${j.queriesAnswered} answered, ε charged ${fmtEpsilon(j.epsilonCharged)}`,
      });
    }
    lines.push({ text: '' });
  }
  if (doc.entries?.length) {
    lines.push({ text: 'Ledger entries', size: 13, bold: true });
    for (const e of doc.entries) {
      lines.push({
        text: `#${e.seq} ${e.createdAt} ${e.kind}${e.mechanism ? ` ${e.mechanism}` : ''}${e.jobId ? ` job ${e.jobId.slice(0, 8)} ${e.batchId ?? ''}` : ''}: ε spent ${fmtEpsilon(e.epsilonSpent)}, cap ${fmtEpsilon(e.epsilonCap)}, hash ${e.hash.slice(0, 16)}`,
        size: 8,
      });
    }
  }
  return textPdf(title, lines);
}
