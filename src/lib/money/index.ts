/** The money module's public API: integer minor units, exact parsing/formatting, allocation, fees. */
export { MoneyError, type MoneyErrorCode } from './errors';
export { CURRENCIES, CURRENCY_CODES, currencyName, exponentOf, isCurrencyCode, type Currency, type CurrencyCode } from './currency';
export {
	MAX_AMOUNT_MINOR,
	assertMinor,
	formatAmount,
	parseAmount,
	toDecimalString,
	type ParseErrorCode,
	type ParseResult
} from './amount';
export { ZERO_MINOR, addMinor, isMinor, minor, subMinor, sumMinor, type Minor } from './minor';
export {
	FULL_BASIS_POINTS,
	allocateByWeights,
	percentToBasisPoints,
	type PercentErrorCode,
	type PercentResult
} from './allocate';
export {
	DAY_MS,
	FUNDING_FEES,
	FUNDING_METHODS,
	HOUR_MS,
	PAYOUT_FEES,
	PAYOUT_METHODS,
	basisPointsOf,
	feeFor,
	quoteFunding,
	quoteWithdrawal,
	type FeeRule,
	type FundingFeeQuote,
	type FundingMethod,
	type PayoutMethod,
	type WithdrawalFeeQuote
} from './fees';
export {
	DEFAULT_MEDIATION_FEE_BPS,
	MAX_MEDIATION_FEE_BPS,
	MEDIATION_FEE_MINIMUM,
	SMALL_DISPUTE_LIMIT,
	feeShares,
	mediationFee,
	midpoint
} from './mediation';
