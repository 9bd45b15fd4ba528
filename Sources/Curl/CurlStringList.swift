import CCurl

/// An owned `curl_slist`: header lines or mail recipients.
///
/// libcurl keeps only the pointer passed to `curl_easy_setopt`, so the list
/// must outlive every transfer of the handle; ``CurlEasy`` holds it until it
/// is itself released.
final class CurlStringList {
    private(set) var head: UnsafeMutablePointer<curl_slist>?

    init(_ items: [String]) throws(CurlError) {
        for item in items {
            // curl_slist_append copies the string; on failure it returns NULL
            // and leaves the list as it was.
            guard let next = curl_slist_append(head, item) else {
                curl_slist_free_all(head)
                head = nil
                throw .option("curl_slist_append", CURLE_OUT_OF_MEMORY)
            }
            head = next
        }
    }

    deinit { curl_slist_free_all(head) }
}
