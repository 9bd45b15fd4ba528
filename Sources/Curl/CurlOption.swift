import CCurl

/// The libcurl options this package uses, by the kind of value each takes.
///
/// Callers name options through these constants instead of importing the C
/// module: a long option cannot be given a string by mistake, which the
/// variadic `curl_easy_setopt` would accept and misread.
public struct CurlOption: Sendable {
    let option: CURLoption
    let name: String

    /// An option whose value is a C `long`.
    public struct Long: Sendable {
        let base: CurlOption
        init(_ option: CURLoption, _ name: String) { base = CurlOption(option: option, name: name) }

        public static let timeoutMilliseconds = Long(CURLOPT_TIMEOUT_MS, "CURLOPT_TIMEOUT_MS")
        public static let connectTimeoutMilliseconds = Long(CURLOPT_CONNECTTIMEOUT_MS, "CURLOPT_CONNECTTIMEOUT_MS")
        public static let verifyPeer = Long(CURLOPT_SSL_VERIFYPEER, "CURLOPT_SSL_VERIFYPEER")
        /// 2 checks the certificate names the host, 0 does not check.
        public static let verifyHost = Long(CURLOPT_SSL_VERIFYHOST, "CURLOPT_SSL_VERIFYHOST")
        /// One of ``CurlUseSSL``'s raw values.
        public static let useSSL = Long(CURLOPT_USE_SSL, "CURLOPT_USE_SSL")
        public static let followLocation = Long(CURLOPT_FOLLOWLOCATION, "CURLOPT_FOLLOWLOCATION")
        /// Deliver to the recipients the server accepted even when it refused some.
        public static let mailRecipientAllowFails = Long(CURLOPT_MAIL_RCPT_ALLLOWFAILS, "CURLOPT_MAIL_RCPT_ALLOWFAILS")
        public static let verbose = Long(CURLOPT_VERBOSE, "CURLOPT_VERBOSE")
    }

    /// An option whose value is a C string (libcurl copies it).
    public struct Text: Sendable {
        let base: CurlOption
        init(_ option: CURLoption, _ name: String) { base = CurlOption(option: option, name: name) }

        public static let url = Text(CURLOPT_URL, "CURLOPT_URL")
        /// Comma-separated schemes libcurl may use, e.g. "smtp,smtps".
        public static let protocols = Text(CURLOPT_PROTOCOLS_STR, "CURLOPT_PROTOCOLS_STR")
        public static let caFile = Text(CURLOPT_CAINFO, "CURLOPT_CAINFO")
        public static let username = Text(CURLOPT_USERNAME, "CURLOPT_USERNAME")
        public static let password = Text(CURLOPT_PASSWORD, "CURLOPT_PASSWORD")
        public static let mailFrom = Text(CURLOPT_MAIL_FROM, "CURLOPT_MAIL_FROM")
        public static let userAgent = Text(CURLOPT_USERAGENT, "CURLOPT_USERAGENT")
    }

    /// An option whose value is a list of strings (a `curl_slist`).
    public struct List: Sendable {
        let base: CurlOption
        init(_ option: CURLoption, _ name: String) { base = CurlOption(option: option, name: name) }

        public static let httpHeaders = List(CURLOPT_HTTPHEADER, "CURLOPT_HTTPHEADER")
        public static let mailRecipients = List(CURLOPT_MAIL_RCPT, "CURLOPT_MAIL_RCPT")
    }
}

/// CURLOPT_USE_SSL: whether a plain connection (smtp://) is upgraded with STARTTLS.
public enum CurlUseSSL: Int, Sendable {
    /// Never upgrade.
    case none = 0
    /// Upgrade when the server offers it, go on in plain text otherwise.
    case tryTLS = 1
    /// Upgrade or fail (CURLUSESSL_ALL).
    case require = 3
}
